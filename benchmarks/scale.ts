import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runBenchmark } from '../src/bench/benchmark';
import { BenchCluster, ClusterKind, ClusterSettings } from '../src/bench/cluster';
import { encodeKey, makeValue } from '../src/bench/keys';
import { Channel } from '../src/bench/rpc';
import { projectRoot } from '../src/paths';
import { optionsFor, PLAN } from './plan';

/**
 * `npm run bench:scale [-- --keys N --leases N --watchers N --wal-entries N --kinds etcd,latchkey]`:
 * how etcd 3.4 and latchkey hold up as the store grows. For each kind, on fresh 3-member
 * clusters with bench:compare's settings:
 *  1. fill N keys of 256 B (Txns of 100 Puts, 16 writers), then RSS, put and serializable
 *     range throughput at that size, and the restart time of a killed follower (snapshot +
 *     the WAL after it: N/100 entries pass --snapshot-count 10000 when N ≥ 1,000,000);
 *  2. the watch workload with W watchers (put-to-event latency across all of them) and RSS;
 *  3. L leases granted, RSS and keepalive throughput;
 *  4. a cluster with --snapshot-count above E, E single Puts, kill -9 a follower: restart
 *     time replaying a WAL of E entries with no snapshot.
 * Writes benchmarks/results/<date>-scale.md (and .json).
 */

interface ScaleArgs {
  keys: number;
  leases: number;
  watchers: number;
  walEntries: number;
  kinds: ClusterKind[];
  measureSeconds: number;
}

const FILL_WRITERS = 16;
const PUTS_PER_TXN = 100;
const GRANT_WORKERS = 64;
const VALUE_BYTES = 256;

function parseArgs(argv: string[]): ScaleArgs {
  const args: ScaleArgs = { keys: 1_000_000, leases: 100_000, watchers: 10_000, walEntries: 50_000, kinds: ['etcd', 'latchkey'], measureSeconds: 5 };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const text = argv[++i];
    if (text === undefined) throw new Error(`${flag} needs a value`);
    const n = Number(text);
    if (flag === '--kinds') args.kinds = text.split(',').map((k) => k.trim()) as ClusterKind[];
    else if (!(Number.isInteger(n) && n > 0)) throw new Error(`${flag} needs a positive integer`);
    else if (flag === '--keys') args.keys = n;
    else if (flag === '--leases') args.leases = n;
    else if (flag === '--watchers') args.watchers = n;
    else if (flag === '--wal-entries') args.walEntries = n;
    else if (flag === '--measure-seconds') args.measureSeconds = n;
    else throw new Error(`unknown flag ${flag} (--keys, --leases, --watchers, --wal-entries, --measure-seconds, --kinds)`);
  }
  for (const kind of args.kinds) if (kind !== 'etcd' && kind !== 'latchkey') throw new Error(`unknown kind ${kind}`);
  return args;
}

function say(line: string): void {
  process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${line}\n`);
}

function settings(snapshotCount: number): ClusterSettings {
  return {
    size: 3,
    heartbeatIntervalMs: 100,
    electionTimeoutMs: 1000,
    snapshotCount,
    latchkeyDist: path.resolve(__dirname, '..'),
    etcdBinary: process.env.ETCD_BINARY ?? '/usr/bin/etcd',
    readyTimeoutMs: 120_000,
  };
}

/** Runs `count` jobs on `workers` concurrent workers; job i gets its index. Prints progress every 5 s. */
async function parallel(label: string, count: number, workers: number, job: (channel: Channel, i: number) => Promise<void>, endpoints: string[]): Promise<number> {
  const channels = endpoints.map((endpoint) => new Channel(endpoint));
  let next = 0;
  let done = 0;
  const started = performance.now();
  const progress = setInterval(() => say(`  ${label}: ${done}/${count} (${((100 * done) / count).toFixed(0)}%)`), 5_000);
  try {
    await Promise.all(
      Array.from({ length: workers }, async (_unused, w) => {
        const channel = channels[w % channels.length]!;
        // Bounded: each pass takes one job index below count.
        for (let i = next++; i < count; i = next++) {
          await job(channel, i);
          done++;
        }
      }),
    );
  } finally {
    clearInterval(progress);
    for (const channel of channels) channel.close();
  }
  return (performance.now() - started) / 1000;
}

async function fill(cluster: BenchCluster, keys: number): Promise<number> {
  const value = makeValue(VALUE_BYTES);
  const txns = Math.ceil(keys / PUTS_PER_TXN);
  const seconds = await parallel('fill', txns, FILL_WRITERS, async (channel, t) => {
    const success = [];
    for (let k = t * PUTS_PER_TXN; k < Math.min(keys, (t + 1) * PUTS_PER_TXN); k++) success.push({ request_put: { key: encodeKey('scale/', k, 16), value } });
    await channel.unary('KV', 'Txn', { compare: [], success, failure: [] }, 60_000);
  }, cluster.endpoints);
  return keys / seconds;
}

async function grantLeases(cluster: BenchCluster, leases: number): Promise<number> {
  const seconds = await parallel('leases', leases, GRANT_WORKERS, async (channel) => {
    await channel.unary('Lease', 'LeaseGrant', { TTL: 3600 }, 60_000);
  }, cluster.endpoints);
  return leases / seconds;
}

async function writeEntries(cluster: BenchCluster, entries: number): Promise<void> {
  const value = makeValue(VALUE_BYTES);
  await parallel('wal entries', entries, 64, async (channel, i) => {
    await channel.unary('KV', 'Put', { key: encodeKey('wal/', i, 16), value }, 60_000);
  }, cluster.endpoints);
}

const planned = (label: string) => {
  const found = PLAN.find((p) => p.label.startsWith(label));
  if (found === undefined) throw new Error(`no planned workload ${label}`);
  return found;
};

async function throughput(cluster: BenchCluster, label: string, workload: string, seconds: number, extra: Record<string, unknown> = {}): Promise<{ opsPerSecond: number; p99Ms: number; errors: number }> {
  const options = { ...optionsFor(planned(label), cluster.endpoints, seconds), ...extra };
  const report = await runBenchmark(workload, options, { progressOut: process.stderr });
  return { opsPerSecond: report.throughputPerSecond, p99Ms: report.latency.p99Ms, errors: report.errors };
}

const maxRssMiB = (cluster: BenchCluster): number => Math.max(...cluster.residentBytes()) / 2 ** 20;

type Row = { scenario: string; metric: string; values: Partial<Record<ClusterKind, number>>; better: 'higher' | 'lower' };

async function killAndRestartFollower(cluster: BenchCluster): Promise<number> {
  // Member 1 or 2 — whichever is not the leader — so the restart measures replay, not an election.
  const status = await Promise.all(cluster.endpoints.map(async (endpoint) => {
    const channel = new Channel(endpoint);
    try {
      const answer = await channel.unary('Maintenance', 'Status', {});
      return { leader: String(answer.leader), self: String(answer.header?.member_id) };
    } finally {
      channel.close();
    }
  }));
  const follower = status.findIndex((s, i) => i > 0 && s.leader !== s.self);
  const index = follower === -1 ? 1 : follower;
  await cluster.kill(index);
  return cluster.restart(index);
}

async function scaleKind(kind: ClusterKind, args: ScaleArgs, rows: Row[], failures: string[]): Promise<void> {
  /** A phase that fails is reported and skipped (its rows stay empty); the next phase runs. */
  const phase = async (name: string, run: () => Promise<void>): Promise<void> => {
    try {
      await run();
    } catch (error) {
      say(`${kind} ${name}: FAILED ${error instanceof Error ? error.message : String(error)}`);
      failures.push(`${kind} ${name}: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`);
    }
  };
  const record = (scenario: string, metric: string, value: number, better: 'higher' | 'lower'): void => {
    let row = rows.find((r) => r.scenario === scenario && r.metric === metric);
    if (row === undefined) rows.push((row = { scenario, metric, values: {}, better }));
    row.values[kind] = value;
    say(`${kind} ${scenario}: ${metric} = ${value.toFixed(1)}`);
  };
  const keysLabel = `${args.keys.toLocaleString('en')} keys of 256 B`;
  say(`${kind}: filling ${keysLabel}`);
  let cluster = await BenchCluster.start(kind, settings(10_000));
  try {
    await phase('fill', async () => {
      record(keysLabel, 'fill, keys/s (Txns of 100 Puts)', await fill(cluster, args.keys), 'higher');
      record(keysLabel, 'RSS of the largest member, MiB', maxRssMiB(cluster), 'lower');
    });
    await phase('put', async () => record(keysLabel, 'put ops/s, 64 clients', (await throughput(cluster, 'put, 64 clients', 'put', args.measureSeconds)).opsPerSecond, 'higher'));
    await phase('range', async () => record(keysLabel, 'serializable range ops/s, 64 clients', (await throughput(cluster, 'range serializable', 'range', args.measureSeconds)).opsPerSecond, 'higher'));
    await phase('restart', async () => record(keysLabel, 'restart of a killed follower (snapshot + WAL), ms', await killAndRestartFollower(cluster), 'lower'));
    const watchLabel = `${args.watchers.toLocaleString('en')} watchers`;
    await phase('watch', async () => {
      const watch = await throughput(cluster, 'watch', 'watch', args.measureSeconds, { watchers: args.watchers, watchStreams: Math.max(1, Math.ceil(args.watchers / 100)) });
      record(watchLabel, 'puts/s seen by every watcher (4 putters)', watch.opsPerSecond, 'higher');
      record(watchLabel, 'put-to-last-event p99, ms', watch.p99Ms, 'lower');
      record(watchLabel, 'RSS of the largest member, MiB', maxRssMiB(cluster), 'lower');
    });
  } finally {
    await cluster.stop();
  }
  const leaseLabel = `${args.leases.toLocaleString('en')} leases`;
  say(`${kind}: granting ${leaseLabel}`);
  cluster = await BenchCluster.start(kind, settings(10_000));
  try {
    await phase('leases', async () => {
      record(leaseLabel, 'grants/s, 64 clients', await grantLeases(cluster, args.leases), 'higher');
      record(leaseLabel, 'RSS of the largest member, MiB', maxRssMiB(cluster), 'lower');
    });
    await phase('keepalive', async () => record(leaseLabel, 'keepalive ops/s, 64 clients', (await throughput(cluster, 'lease-keepalive', 'lease-keepalive', args.measureSeconds)).opsPerSecond, 'higher'));
  } finally {
    await cluster.stop();
  }
  const walLabel = `WAL of ${args.walEntries.toLocaleString('en')} entries, no snapshot`;
  say(`${kind}: ${walLabel}`);
  cluster = await BenchCluster.start(kind, settings(args.walEntries * 2));
  try {
    await phase('wal restart', async () => {
      await writeEntries(cluster, args.walEntries);
      record(walLabel, 'restart of a killed follower (WAL replay), ms', await killAndRestartFollower(cluster), 'lower');
    });
  } finally {
    await cluster.stop();
  }
}

function renderRows(rows: Row[], kinds: ClusterKind[]): string {
  const lines = ['| scenario | metric | ' + kinds.join(' | ') + ' | ratio latchkey/etcd |', '|---|---|' + kinds.map(() => '---:|').join('') + '---:|'];
  for (const row of rows) {
    const ratio = row.values.etcd && row.values.latchkey !== undefined ? `${(row.values.latchkey / row.values.etcd).toFixed(2)}× (${row.better} is better)` : '';
    lines.push(`| ${row.scenario} | ${row.metric} | ${kinds.map((k) => (row.values[k] === undefined ? '—' : row.values[k]!.toFixed(1))).join(' | ')} | ${ratio} |`);
  }
  return lines.join('\n');
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const started = Date.now();
  const rows: Row[] = [];
  const failures: string[] = [];
  for (const kind of args.kinds) await scaleKind(kind, args, rows, failures);
  const date = new Date().toISOString().slice(0, 10);
  const dir = path.join(projectRoot(), 'benchmarks', 'results');
  fs.mkdirSync(dir, { recursive: true });
  const header = [
    `# Scale: latchkey vs etcd — ${date}`,
    '',
    `3-member clusters on loopback, fsync on, 256-byte values, bench:compare's flags (--snapshot-count 10000 except the WAL-only row).`,
    `Keys ${args.keys}, watchers ${args.watchers}, leases ${args.leases}, WAL entries ${args.walEntries}; measurements ${args.measureSeconds} s each.`,
    `Machine: ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}; node ${process.version}; wall time ${((Date.now() - started) / 1000).toFixed(0)} s; load average at the end ${os.loadavg().map((l) => l.toFixed(1)).join(' / ')}.`,
    `Command: \`npm run bench:scale -- ${process.argv.slice(2).join(' ')}\``,
    '',
  ].join('\n');
  const table = renderRows(rows, args.kinds) + (failures.length === 0 ? '' : `\n\nPhases that failed:\n${failures.map((f) => `- ${f}`).join('\n')}`);
  fs.writeFileSync(path.join(dir, `${date}-scale.md`), `${header}\n${table}\n`);
  fs.writeFileSync(path.join(dir, `${date}-scale.json`), `${JSON.stringify({ args, rows, failures }, null, 2)}\n`);
  process.stdout.write(`${table}\n\nwrote ${path.join(dir, `${date}-scale.md`)}\n`);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`bench:scale: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
