import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { parseDuration } from '../../../src/cli/verify';
import { bridgeLinks, oneWayLinks, splitLinks } from '../../../src/verify/faults/partitions';
import { parseFailpoints } from '../../../src/failpoints';
import { failpointSpec } from '../../../src/verify/faults/failpoint-faults';
import { FAILPOINT_FAULT_KINDS, FAULT_KINDS, isFailpointFault, parseFaults } from '../../../src/verify/faults/types';
import { renderReport, type RunSummary } from '../../../src/verify/report/report-md';
import { buildRunSummaryJson } from '../../../src/verify/report/summary-json';
import { FAULT_COLORS, renderTimeline } from '../../../src/verify/report/timeline-svg';
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
    for (const kind of ['crash-before-fsync', 'crash-after-fsync', 'crash-after-apply', 'crash-during-snapshot', 'slow-fsync']) {
      assert.ok(parseFaults('all').includes(kind as never), `all includes ${kind}`);
      assert.deepEqual(parseFaults(kind), [kind]);
    }
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

describe('failpoint faults', () => {
  test('each failpoint fault arms the failpoint it is named after, in a form latchkey accepts', () => {
    const random = new Random(5);
    const expected: Record<string, RegExp> = {
      'crash-before-fsync': /^walBeforeFsync=crash@([2-9]|[12]\d|30)$/,
      'crash-after-fsync': /^afterFsyncBeforeApply=crash@([2-9]|[12]\d|30)$/,
      'crash-after-apply': /^afterApplyBeforeAnswer=crash@([2-9]|[12]\d|30)$/,
      'crash-during-snapshot': /^duringSnapshot=crash@1$/,
      'slow-fsync': /^walFsync=sleep\((\d+)\)$/,
    };
    for (let round = 0; round < 50; round++) {
      for (const kind of FAILPOINT_FAULT_KINDS) {
        const spec = failpointSpec(kind, random);
        assert.match(spec, expected[kind]!);
        assert.equal(parseFailpoints(spec).size, 1, `${spec} parses`);
        if (kind === 'slow-fsync') {
          const ms = Number(/\((\d+)\)/.exec(spec)![1]);
          assert.ok(ms >= 50 && ms <= 300, `slow fsync of ${ms} ms`);
        }
      }
    }
    assert.deepEqual(FAILPOINT_FAULT_KINDS.map((k) => failpointSpec(k, new Random(9))), FAILPOINT_FAULT_KINDS.map((k) => failpointSpec(k, new Random(9))), 'same seed, same specs');
  });

  test('only the five failpoint kinds are failpoint faults', () => {
    assert.deepEqual(FAULT_KINDS.filter(isFailpointFault), [...FAILPOINT_FAULT_KINDS]);
  });

  test('the timeline legend shows every fault kind, each in its own colour, and bands take their kind\'s colour', () => {
    const svg = renderTimeline([{ client: 0, workload: 'register', label: 'w k', status: 'ok', startMs: 0, endMs: 10 }], [{ kind: 'crash-during-snapshot', detail: 'm0 duringSnapshot=crash@1: crashed at duringSnapshot', startMs: 100, endMs: 900 }], 1000);
    for (const kind of FAULT_KINDS) assert.match(svg, new RegExp(`<text [^>]*>${kind}</text>`), `legend names ${kind}`);
    assert.equal(new Set(Object.values(FAULT_COLORS)).size, FAULT_KINDS.length, 'one colour per kind');
    assert.match(svg, new RegExp(`fill="${FAULT_COLORS['crash-during-snapshot']}" fill-opacity="0.15"><title>crash-during-snapshot m0`));
  });

  test('summary.json counts injected faults per kind, anomalies and lost acknowledged writes; report.md shows notes', () => {
    const summary: RunSummary = {
      target: 'latchkey',
      members: 3,
      workload: 'register,append',
      faults: 'kill,crash-before-fsync',
      seed: 4,
      durationMs: 1234.5,
      counters: { ok: 10, fail: 2, unknown: 1 },
      quiescence: { ok: true, detail: 'ok' },
      peerConnections: { attributed: 1, unattributed: 0 },
      checks: [
        { checker: 'register', valid: true, outcome: 'valid', violations: [], stats: {} },
        {
          checker: 'append',
          valid: false,
          outcome: 'invalid',
          violations: [
            { checker: 'append', message: 'key "a": acknowledged append #3 of "x" is lost from the final list' },
            { checker: 'append', message: 'key "a": element "y" is duplicated in the final list' },
          ],
          stats: { violationsDropped: 0 },
        },
      ],
      faultEvents: [
        { kind: 'kill', detail: 'm1', startMs: 1, endMs: 2 },
        { kind: 'crash-before-fsync', detail: 'm0', startMs: 3, endMs: 4 },
        { kind: 'crash-before-fsync', detail: 'm2', startMs: 5, endMs: 6 },
        { kind: 'kill', detail: '', startMs: 7, endMs: 8, skipped: 'no leader found' },
      ],
      notes: ['slow-fsync: not available here'],
      verdict: 'verify: FAIL (...)',
    };
    const json = buildRunSummaryJson(summary, 'FAIL', ['kill', 'crash-before-fsync', 'slow-fsync'], ['slow-fsync']);
    assert.deepEqual(json.faults.injected, { kill: 1, 'crash-before-fsync': 2 });
    assert.deepEqual(json.faults.skipped, { kill: 1 });
    assert.deepEqual(json.faults.unavailable, ['slow-fsync']);
    assert.equal(json.anomalies, 2);
    assert.equal(json.lostAcknowledgedWrites, 1);
    assert.deepEqual(json.ops, { total: 13, ok: 10, fail: 2, unknown: 1 });
    assert.match(renderReport(summary), /- note: slow-fsync: not available here/);
  });
});
