import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { bucketBounds, bucketIndex, Histogram, MAX_RECORDABLE_MICROS } from '../../src/bench/histogram';

describe('benchmark latency histogram', () => {
  test('every value lands in a bucket whose bounds contain it, at most 1/64 wide relative to its value', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: MAX_RECORDABLE_MICROS }), (micros) => {
        const { low, high } = bucketBounds(bucketIndex(micros));
        assert.ok(low <= micros && micros <= high, `${micros} not in [${low}, ${high}]`);
        assert.ok(high - low + 1 <= Math.max(1, micros / 64), `bucket [${low}, ${high}] too wide for ${micros}`);
      }),
      { numRuns: 5_000 },
    );
  });

  test('buckets are contiguous and increasing around powers of two', () => {
    for (let exponent = 6; exponent < 36; exponent++) {
      for (const micros of [2 ** exponent - 1, 2 ** exponent, 2 ** exponent + 1]) {
        const index = bucketIndex(micros);
        assert.equal(bucketBounds(index).high + 1, bucketBounds(index + 1).low, `gap after bucket ${index}`);
        assert.ok(bucketIndex(micros + 1) >= index);
      }
    }
  });

  test('values below 128 µs are exact', () => {
    const histogram = new Histogram();
    for (const micros of [1, 5, 5, 100]) histogram.recordMicros(micros);
    assert.equal(histogram.percentileMicros(0.5), 5);
    assert.equal(histogram.percentileMicros(1), 100);
    assert.equal(histogram.percentileMicros(0), 1);
  });

  test('percentiles of 1..10000 ms are within 1.6 % of the exact values; min, max and mean are exact', () => {
    const histogram = new Histogram();
    for (let ms = 1; ms <= 10_000; ms++) histogram.recordMs(ms);
    const summary = histogram.summary();
    const close = (actual: number, expected: number): void =>
      assert.ok(Math.abs(actual - expected) <= expected * 0.016, `${actual} is not within 1.6 % of ${expected}`);
    close(summary.p50Ms, 5_000);
    close(summary.p90Ms, 9_000);
    close(summary.p99Ms, 9_900);
    close(summary.p999Ms, 9_990);
    assert.equal(summary.minMs, 1);
    assert.equal(summary.maxMs, 10_000);
    assert.equal(summary.meanMs, 5_000.5);
    assert.equal(summary.count, 10_000);
  });

  test('a percentile is never below the value at its rank (upper bucket bound, clamped to max)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 10_000_000 }), { minLength: 1, maxLength: 200 }), fc.double({ min: 0, max: 1, noNaN: true }), (values, q) => {
        const histogram = new Histogram();
        for (const v of values) histogram.recordMicros(v);
        const sorted = [...values].sort((a, b) => a - b);
        const exact = sorted[Math.max(1, Math.ceil(q * sorted.length)) - 1]!;
        const reported = histogram.percentileMicros(q);
        assert.ok(reported >= exact && reported <= Math.max(exact, exact * (1 + 1 / 64)), `q=${q}: ${reported} vs exact ${exact}`);
      }),
      { numRuns: 500 },
    );
  });

  test('merging two histograms equals recording everything in one', () => {
    const a = new Histogram();
    const b = new Histogram();
    const both = new Histogram();
    for (let i = 0; i < 1_000; i++) {
      const micros = (i * 7919) % 50_000;
      (i % 2 === 0 ? a : b).recordMicros(micros);
      both.recordMicros(micros);
    }
    a.merge(b);
    assert.deepEqual(a.summary(), both.summary());
  });

  test('an empty histogram reports zeros; the coarse view covers every sample', () => {
    assert.deepEqual(new Histogram().summary(), { count: 0, minMs: 0, meanMs: 0, p50Ms: 0, p90Ms: 0, p99Ms: 0, p999Ms: 0, maxMs: 0 });
    const histogram = new Histogram();
    for (const ms of [0.05, 0.3, 0.3, 2, 40, 41]) histogram.recordMs(ms);
    const coarse = histogram.coarseBuckets();
    assert.equal(coarse.reduce((sum, row) => sum + row.count, 0), 6);
    for (let i = 1; i < coarse.length; i++) assert.equal(coarse[i]!.upToMs, coarse[i - 1]!.upToMs * 2);
    assert.equal(coarse[0]!.upToMs, 0.125);
    assert.equal(coarse[coarse.length - 1]!.upToMs, 64);
  });

  test('rejects non-finite latencies and out-of-range quantiles', () => {
    const histogram = new Histogram();
    assert.throws(() => histogram.recordMs(Number.NaN));
    assert.throws(() => histogram.percentileMicros(1.5));
  });
});
