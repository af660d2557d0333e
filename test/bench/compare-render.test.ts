import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Histogram } from '../../src/bench/histogram';
import { buildReport } from '../../src/bench/report';
import { PLAN } from '../../benchmarks/plan';
import { renderRssTable, renderSvg, renderTable } from '../../benchmarks/render';
import { median, RunRecord, summariseAll } from '../../benchmarks/summary';

function reportWith(workload: string, throughputOps: number, latencyMs: number, extra: Record<string, number> = {}) {
  const histogram = new Histogram();
  for (let i = 0; i < throughputOps; i++) histogram.recordMs(latencyMs);
  return buildReport(workload, {}, { histogram, ops: throughputOps, errors: 0, elapsedMs: 1000 }, extra);
}

describe('bench:compare results', () => {
  test('median of odd and even counts', () => {
    assert.equal(median([3, 1, 2]), 2);
    assert.equal(median([4, 1, 3, 2]), 2.5);
    assert.ok(Number.isNaN(median([])));
  });

  test('the table shows the latchkey/etcd ratio of the medians over the repeats', () => {
    const put = PLAN[0]!;
    const failover = PLAN.find((p) => p.kind === 'failover')!;
    const records: RunRecord[] = [];
    for (const [repeat, etcdOps, latchkeyOps] of [[0, 100, 50], [1, 300, 80], [2, 200, 60]] as const) {
      records.push({ repeat, kind: 'etcd', label: put.label, report: reportWith('put', etcdOps, 10) });
      records.push({ repeat, kind: 'latchkey', label: put.label, report: reportWith('put', latchkeyOps, 20) });
    }
    records.push({ repeat: 0, kind: 'etcd', label: failover.label, report: reportWith('election-failover', 1, 1, { leaderElectedMs: 1000, campaignerElectedMs: 4000 }) });
    records.push({ repeat: 0, kind: 'latchkey', label: failover.label, report: reportWith('election-failover', 1, 1, { leaderElectedMs: 500, campaignerElectedMs: 4000 }) });
    records.push({ repeat: 0, kind: 'latchkey', label: PLAN[1]!.label, failure: 'boom' });
    const table = renderTable(summariseAll(records), [
      { repeat: 0, kind: 'etcd', bytesPerMember: [100 * 2 ** 20, 50 * 2 ** 20] },
      { repeat: 0, kind: 'latchkey', bytesPerMember: [150 * 2 ** 20] },
    ]);
    const row = (label: string): string => table.split('\n').find((line) => line.startsWith(`| ${label}`))!;
    assert.match(row(put.label), /\| 200\.0 \| 60\.0 \| 0\.30× \|/);
    assert.match(row(put.label), /\| 10\.00 \| 20\.00 \| 2\.00× \|/);
    assert.match(row(`${failover.label}: new raft leader`), /\| 1000 \| 500 \| 0\.50× \|/);
    assert.match(row(PLAN[1]!.label), /\| 0\/1 \|$/);
    assert.match(row('RSS'), /\| 100\.0 \| 150\.0 \| 1\.50× \|/);
    assert.match(renderRssTable('scale', [{ repeat: 0, kind: 'etcd', bytesPerMember: [2 ** 20] }, { repeat: 0, kind: 'latchkey', bytesPerMember: [2 ** 21] }]), /\| 1\.0 \| 2\.0 \| 2\.00× \|/);
    const svg = renderSvg(summariseAll(records), 'title <&>');
    assert.ok(svg.startsWith('<svg') && svg.trimEnd().endsWith('</svg>'));
    assert.ok(svg.includes('title &lt;&amp;&gt;'));
    assert.ok(svg.includes('ops/s 0.30×'));
  });
});
