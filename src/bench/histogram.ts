/**
 * A latency histogram with fixed log-scale buckets (HDR-like), in integer microseconds.
 *
 * Values below LINEAR_LIMIT (128 µs) get one exact bucket each. Above that, every power of
 * two [2^k, 2^(k+1)) is split into SUB_BUCKETS (64) equal buckets, so a bucket's width is at
 * most 1/64 of its lower bound: any percentile is reported within 1.6 % of the true value.
 * Invariant: count === sum of bucket counts; min ≤ every recorded value ≤ max.
 */

const SUB_BUCKET_BITS = 6;
const SUB_BUCKETS = 1 << SUB_BUCKET_BITS; // 64
const LINEAR_LIMIT = SUB_BUCKETS * 2; // 128
/** Largest recordable value: 2^37 µs ≈ 38 hours; larger values are clamped. */
const MAX_EXPONENT = 37;
export const MAX_RECORDABLE_MICROS = 2 ** MAX_EXPONENT - 1;
const BUCKET_COUNT = LINEAR_LIMIT + (MAX_EXPONENT - SUB_BUCKET_BITS - 1) * SUB_BUCKETS;

/** Index of the bucket holding `micros` (an integer ≥ 0). */
export function bucketIndex(micros: number): number {
  if (micros < LINEAR_LIMIT) return micros;
  // Choose shift so that micros >> shift ∈ [64, 128); Math.log2 can be off by one near
  // exact powers of two, so correct it (each loop runs at most once).
  let shift = Math.floor(Math.log2(micros)) - SUB_BUCKET_BITS;
  while (Math.floor(micros / 2 ** shift) >= LINEAR_LIMIT) shift++;
  while (shift > 1 && Math.floor(micros / 2 ** shift) < SUB_BUCKETS) shift--;
  const top = Math.floor(micros / 2 ** shift);
  return LINEAR_LIMIT + (shift - 1) * SUB_BUCKETS + (top - SUB_BUCKETS);
}

/** Smallest and largest value (inclusive) that fall into bucket `index`. */
export function bucketBounds(index: number): { low: number; high: number } {
  if (!Number.isInteger(index) || index < 0 || index >= BUCKET_COUNT) throw new Error(`bucket index out of range: ${index}`);
  if (index < LINEAR_LIMIT) return { low: index, high: index };
  const shift = Math.floor((index - LINEAR_LIMIT) / SUB_BUCKETS) + 1;
  const top = SUB_BUCKETS + ((index - LINEAR_LIMIT) % SUB_BUCKETS);
  const low = top * 2 ** shift;
  return { low, high: low + 2 ** shift - 1 };
}

export interface LatencySummary {
  count: number;
  minMs: number;
  meanMs: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  p999Ms: number;
  maxMs: number;
}

export class Histogram {
  private readonly counts = new Float64Array(BUCKET_COUNT);
  private total = 0;
  private sumMicros = 0;
  private minMicros = Number.POSITIVE_INFINITY;
  private maxMicros = 0;

  get count(): number {
    return this.total;
  }

  /** Records one latency in milliseconds (fractions allowed; rounded to whole microseconds). */
  recordMs(latencyMs: number): void {
    this.recordMicros(Math.round(latencyMs * 1000));
  }

  recordMicros(micros: number): void {
    if (!Number.isFinite(micros)) throw new Error(`Histogram: not a finite latency: ${micros}`);
    const value = Math.min(Math.max(0, Math.round(micros)), MAX_RECORDABLE_MICROS);
    this.counts[bucketIndex(value)]! += 1;
    this.total += 1;
    this.sumMicros += value;
    if (value < this.minMicros) this.minMicros = value;
    if (value > this.maxMicros) this.maxMicros = value;
  }

  /** Adds every sample of `other` to this histogram. */
  merge(other: Histogram): void {
    for (let i = 0; i < BUCKET_COUNT; i++) this.counts[i]! += other.counts[i]!;
    this.total += other.total;
    this.sumMicros += other.sumMicros;
    this.minMicros = Math.min(this.minMicros, other.minMicros);
    this.maxMicros = Math.max(this.maxMicros, other.maxMicros);
  }

  /**
   * The value at quantile q ∈ [0, 1] in microseconds: the upper bound of the bucket holding
   * the ⌈q·count⌉-th smallest sample, clamped to [min, max] (so p100 is the exact max).
   */
  percentileMicros(q: number): number {
    if (!(q >= 0 && q <= 1)) throw new Error(`Histogram: quantile out of range: ${q}`);
    if (this.total === 0) return 0;
    const rank = Math.max(1, Math.ceil(q * this.total));
    let seen = 0;
    for (let i = 0; i < BUCKET_COUNT; i++) {
      seen += this.counts[i]!;
      if (seen >= rank) return Math.min(Math.max(bucketBounds(i).high, this.minMicros), this.maxMicros);
    }
    return this.maxMicros;
  }

  summary(): LatencySummary {
    const ms = (micros: number): number => micros / 1000;
    return {
      count: this.total,
      minMs: this.total === 0 ? 0 : ms(this.minMicros),
      meanMs: this.total === 0 ? 0 : ms(this.sumMicros / this.total),
      p50Ms: ms(this.percentileMicros(0.5)),
      p90Ms: ms(this.percentileMicros(0.9)),
      p99Ms: ms(this.percentileMicros(0.99)),
      p999Ms: ms(this.percentileMicros(0.999)),
      maxMs: ms(this.maxMicros),
    };
  }

  /**
   * Coarse view for printing: samples grouped into power-of-two ranges of milliseconds
   * ([0, 0.125), [0.125, 0.25), … ), only the ranges between the first and last non-empty one.
   */
  coarseBuckets(): Array<{ upToMs: number; count: number }> {
    const rows: Array<{ upToMs: number; count: number }> = [];
    for (let i = 0; i < BUCKET_COUNT; i++) {
      const n = this.counts[i]!;
      if (n === 0) continue;
      const { high } = bucketBounds(i);
      const upToMs = 2 ** Math.max(-3, Math.ceil(Math.log2((high + 1) / 1000)));
      const last = rows[rows.length - 1];
      if (last !== undefined && last.upToMs === upToMs) last.count += n;
      else rows.push({ upToMs, count: n });
    }
    // Fill the empty ranges in between so the printed shape is honest.
    const filled: Array<{ upToMs: number; count: number }> = [];
    for (const row of rows) {
      const previous = filled[filled.length - 1];
      for (let upTo = previous === undefined ? row.upToMs : previous.upToMs * 2; upTo < row.upToMs; upTo *= 2) {
        filled.push({ upToMs: upTo, count: 0 });
      }
      filled.push(row);
    }
    return filled;
  }
}
