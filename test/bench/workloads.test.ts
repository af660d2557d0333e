import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { runBenchmark } from '../../src/bench/benchmark';
import { BenchOptions, DEFAULT_OPTIONS } from '../../src/bench/options';
import { formatReport } from '../../src/bench/report';
import { Channel } from '../../src/bench/rpc';
import { projectRoot } from '../../src/paths';
import { buildOutputRoot, ServerProcess, spawnTracked, startCluster, startLatchkey, stopAll } from '../support/processes';

function optionsFor(server: ServerProcess, overrides: Partial<BenchOptions> = {}): BenchOptions {
  return { ...DEFAULT_OPTIONS, endpoints: [server.endpoint], clients: 4, conns: 2, total: 50, keySpaceSize: 20, valSize: 64, ...overrides };
}

describe('latchkey benchmark workloads against one latchkey member', () => {
  let server: ServerProcess;
  before(async () => {
    server = await startLatchkey();
  });
  after(stopAll);

  const cases: Array<[string, Partial<BenchOptions>]> = [
    ['put', {}],
    ['put', { sequentialKeys: true }],
    ['range', { consistency: 'l' }],
    ['range', { consistency: 's' }],
    ['txn-put', {}],
    ['watch', { watchers: 6, watchStreams: 3 }],
    ['lease-keepalive', {}],
    ['lock', { lockNames: 1 }],
    ['lock', { lockNames: 4 }],
    ['v3lock', { lockNames: 1 }],
    ['v3lock', { lockNames: 4 }],
  ];
  for (const [workload, overrides] of cases) {
    test(`${workload} ${JSON.stringify(overrides)}: runs exactly --total operations without errors`, async () => {
      const report = await runBenchmark(workload, optionsFor(server, overrides));
      assert.equal(report.firstError, undefined);
      assert.equal(report.errors, 0);
      assert.equal(report.ops, 50);
      assert.equal(report.latency.count, 50);
      assert.equal(report.histogram.reduce((sum, row) => sum + row.count, 0), 50);
      assert.ok(report.throughputPerSecond > 0);
      assert.ok(report.latency.minMs <= report.latency.p50Ms && report.latency.p50Ms <= report.latency.p99Ms);
      assert.ok(report.latency.p99Ms <= report.latency.maxMs);
    });
  }

  test('--duration bounds a run by time instead of count', async () => {
    const report = await runBenchmark('put', optionsFor(server, { total: undefined, durationSeconds: 0.3 }));
    assert.equal(report.errors, 0);
    assert.ok(report.ops > 0);
    assert.ok(report.elapsedSeconds < 5);
  });

  test('--warmup runs the workload first and reports only the measured operations', async () => {
    const channel = new Channel(server.endpoint);
    const revision = async (): Promise<bigint> => {
      const answer = (await channel.unary('KV', 'Range', { key: Buffer.from('warmup-probe') })) as { header: { revision: string | number } };
      return BigInt(answer.header.revision);
    };
    try {
      const before = await revision();
      const report = await runBenchmark('put', optionsFor(server, { total: 30, warmupSeconds: 0.3 }));
      const written = (await revision()) - before;
      assert.equal(report.errors, 0);
      assert.equal(report.ops, 30);
      assert.equal(report.latency.count, 30);
      assert.equal(report.settings.warmupSeconds, 0.3);
      // Every put is one revision: the warm-up's puts happened, and were not counted.
      assert.ok(written > 30n, `expected warm-up puts beyond the 30 measured, the store moved ${written} revisions`);
    } finally {
      channel.close();
    }
  });

  test('the text report shows throughput, percentiles and a histogram', async () => {
    const text = formatReport(await runBenchmark('put', optionsFor(server, { total: 20 })));
    for (const part of ['Requests/sec:', 'p50', 'p90', 'p99', 'p99.9', 'max', 'histogram']) assert.ok(text.includes(part), `missing ${part}`);
  });

  test('contradictory options and unknown workloads are refused', async () => {
    await assert.rejects(runBenchmark('put', optionsFor(server, { durationSeconds: 1 })), /--total or --duration/);
    await assert.rejects(runBenchmark('nope', optionsFor(server)), /unknown workload/);
    await assert.rejects(runBenchmark('election-failover', optionsFor(server)), /member-pids/);
  });

  test('`latchkey benchmark put --json` prints one report object for scripts', async () => {
    const child = spawnTracked(
      process.execPath,
      [path.join(projectRoot(), 'bin', 'latchkey'), 'benchmark', 'put', '--endpoints', server.endpoint, '--total', '30', '--clients', '3', '--val-size', '16', '--json'],
      { env: { LATCHKEY_DIST: buildOutputRoot() } },
    );
    let stdout = '';
    child.child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    const exit = await child.exit;
    assert.equal(exit.code, 0, child.output());
    const report = JSON.parse(stdout);
    assert.equal(report.workload, 'put');
    assert.equal(report.ops, 30);
    assert.equal(report.errors, 0);
    assert.equal(report.settings.clients, 3);
    assert.equal(report.settings.valSize, 16);
    for (const key of ['minMs', 'meanMs', 'p50Ms', 'p90Ms', 'p99Ms', 'p999Ms', 'maxMs']) assert.equal(typeof report.latency[key], 'number', key);
    assert.ok(Array.isArray(report.histogram) && report.histogram.length > 0);
    assert.equal(typeof report.throughputPerSecond, 'number');
  });
});

describe('latchkey benchmark election-failover against a 3-member latchkey cluster', () => {
  after(stopAll);

  test('kills the raft leader, then sees a new raft leader and a new election winner', async () => {
    const members = await startCluster('latchkey', { size: 3, extraArgs: ['--heartbeat-interval', '100', '--election-timeout', '1000'] });
    const report = await runBenchmark(
      'election-failover',
      { ...DEFAULT_OPTIONS, endpoints: members.map((m) => m.endpoint), total: 1, sessionTtlSeconds: 2 },
      { kill: async (index) => void (await members[index]!.kill9()) },
    );
    assert.equal(report.ops, 1);
    const leaderElectedMs = Number(report.extra.leaderElectedMs);
    const campaignerElectedMs = Number(report.extra.campaignerElectedMs);
    assert.ok(leaderElectedMs > 0 && campaignerElectedMs > 0);
    assert.equal(members.filter((m) => m.exited).length, 1, 'exactly the leader was killed');
    assert.equal(report.extra.killedEndpoint, members.find((m) => m.exited)!.endpoint);
  });
});
