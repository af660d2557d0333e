import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { parseDuration } from '../../../src/cli/verify';
import { bridgeLinks, oneWayLinks, splitLinks } from '../../../src/verify/faults/partitions';
import { FAULT_KINDS, parseFaults } from '../../../src/verify/faults/types';
import { renderTimeline } from '../../../src/verify/report/timeline-svg';
import { Random } from '../../../src/verify/runner/random';

describe('fault schedule pieces', () => {
  test('a majority/minority split cuts every link between the sides, both ways, and nothing inside a side', () => {
    const links = splitLinks(['m0'], ['m1', 'm2']).map(([a, b]) => `${a}->${b}`).sort();
    assert.deepEqual(links, ['m0->m1', 'm0->m2', 'm1->m0', 'm2->m0']);
  });

  test('a bridge leaves the bridge member connected to both halves', () => {
    const links = bridgeLinks(['m0', 'm1', 'm2', 'm3', 'm4'], 'm2');
    assert.ok(links.every(([a, b]) => a !== 'm2' && b !== 'm2'));
    assert.deepEqual(links.map(([a, b]) => `${a}->${b}`).sort(), ['m0->m3', 'm0->m4', 'm1->m3', 'm1->m4', 'm3->m0', 'm3->m1', 'm4->m0', 'm4->m1']);
  });

  test('one-way cuts only what the member dials', () => {
    assert.deepEqual(oneWayLinks(['m0', 'm1', 'm2'], 'm1'), [['m1', 'm0'], ['m1', 'm2']]);
  });

  test('--faults and --duration parse, and bad values are refused', () => {
    assert.deepEqual(parseFaults('kill,pause,kill'), ['kill', 'pause']);
    assert.deepEqual(parseFaults('all'), [...FAULT_KINDS]);
    assert.deepEqual(parseFaults('none'), []);
    assert.throws(() => parseFaults('kill,flood'), /unknown fault 'flood'/);
    assert.equal(parseDuration('8s'), 8_000);
    assert.equal(parseDuration('2m'), 120_000);
    assert.equal(parseDuration('1500ms'), 1_500);
    assert.throws(() => parseDuration('soon'), /bad duration/);
  });

  test('the same seed gives the same sequence', () => {
    const a = new Random(42);
    const b = new Random(42);
    const seqA = Array.from({ length: 20 }, () => a.int(0, 1000));
    assert.deepEqual(Array.from({ length: 20 }, () => b.int(0, 1000)), seqA);
    assert.notDeepEqual(Array.from({ length: 20 }, () => new Random(43).int(0, 1000)), seqA);
  });

  test('the timeline draws one bar per operation and one band per fault', () => {
    const svg = renderTimeline(
      [
        { client: 0, workload: 'register', label: 'r k', status: 'ok', startMs: 0, endMs: 10 },
        { client: 1, workload: 'register', label: 'w k', status: 'unknown', startMs: 5, endMs: 2000 },
      ],
      [{ kind: 'kill', detail: 'm1', startMs: 100, endMs: 900 }],
      2000,
    );
    assert.equal((svg.match(/fill="#2e9e44"/g) ?? []).length, 1);
    assert.equal((svg.match(/fill="#f0a202"/g) ?? []).length, 1);
    assert.match(svg, /<title>kill m1<\/title>/);
  });
});
