import * as childProcess from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runBenchmark } from '../src/bench/benchmark';
import { BenchCluster, ClusterKind, ClusterSettings } from '../src/bench/cluster';
import { projectRoot } from '../src/paths';
import { readCpuTimes, stealPercent } from './cpu-steal';
import { CLUSTER_WARMUP, optionsFor, PLAN, PlannedWorkload, runOrder } from './plan';
import { renderMarkdown, renderRssTable, renderSvg, renderTable, RunInfo } from './render';
import { RssRecord, RunRecord, summariseAll } from './summary';

/**
 * `npm run bench:compare [-- --quick | --repeats N --duration S | --scale]`: a 3-member etcd
 * 3.4 cluster and a 3-member latchkey cluster, started in turn with the same settings, run
 * the same workloads with the same client; repeats interleave the two (etcd first on even
 * repeats, latchkey first on odd ones). Writes benchmarks/results/<date>.md, .svg and .json.
 */

interface CompareArgs {
  repeats: number;
  durationSeconds: number;
  /** Unmeasured run of each workload before its measured one (both targets alike). */
  warmupSeconds: number;
  /** Unmeasured put load on each fresh cluster before its first warm row (both targets alike). */
  clusterWarmupSeconds: number;
  mode: string;
  scale: boolean;
  /** Keys written by the scale run. */
  scaleKeys: number;
  /** Where the results go (default benchmarks/results). */
  outDir?: string;
  /** Only the workloads whose label contains this (for trying one out). */
  only?: string;
}

const DEFAULT_SCALE_KEYS = 100_000;

/**
 * Each workload first runs this long unmeasured, against etcd and latchkey alike: latchkey's
 * V8 compiles its hot paths during the first seconds of a new kind of load (a cold put run
 * measured 0.35–0.55× of the same run warmed up), and the comparison is of steady states.
 */
const DEFAULT_WARMUP_SECONDS = 3;

/**
 * A fresh cluster first carries this much unmeasured put load. Three seconds per workload is
 * not a steady state for a new latchkey member: V8 keeps compiling for ~30 s of load (the
 * same put run back to back on one new cluster: 1100, 1324, 1914, 2016 ops/s, members' CPU
 * per put 1.25 → 0.53 ms; etcd flat). Without it the first row measured start-up, not the
 * service; the cold row keeps that start-up visible.
 */
const DEFAULT_CLUSTER_WARMUP_SECONDS = 20;

function parseArgs(argv: string[]): CompareArgs {
  const args: CompareArgs = {
    repeats: 3,
    durationSeconds: 8,
    warmupSeconds: DEFAULT_WARMUP_SECONDS,
    clusterWarmupSeconds: DEFAULT_CLUSTER_WARMUP_SECONDS,
    mode: 'full',
    scale: false,
    scaleKeys: DEFAULT_SCALE_KEYS,
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = (): number => {
      const parsed = Number(argv[++i]);
      if (!(parsed > 0)) throw new Error(`${flag} needs a positive number`);
      return parsed;
    };
    if (flag === '--quick') Object.assign(args, { repeats: 2, durationSeconds: 2, warmupSeconds: 1, clusterWarmupSeconds: 2, mode: 'quick' });
    else if (flag === '--repeats') args.repeats = Math.floor(value());
    else if (flag === '--duration') args.durationSeconds = value();
    else if (flag === '--warmup') {
      args.warmupSeconds = Number(argv[++i]);
      if (!(args.warmupSeconds >= 0)) throw new Error('--warmup needs a number of seconds ≥ 0');
    }
    else if (flag === '--cluster-warmup') {
      args.clusterWarmupSeconds = Number(argv[++i]);
      if (!(args.clusterWarmupSeconds >= 0)) throw new Error('--cluster-warmup needs a number of seconds ≥ 0');
    }
    else if (flag === '--scale') args.scale = true;
    else if (flag === '--only') args.only = argv[++i];
    else if (flag === '--scale-keys') args.scaleKeys = Math.floor(value());
    else if (flag === '--out') args.outDir = argv[++i];
    else throw new Error(`unknown flag ${flag} (use --quick, --repeats N, --duration S, --warmup S, --cluster-warmup S, --scale, --scale-keys N, --only TEXT, --out DIR)`);
  }
  return args;
}

function say(line: string): void {
  process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${line}\n`);
}

function clusterSettings(): ClusterSettings {
  return {
    size: 3,
    heartbeatIntervalMs: 100,
    electionTimeoutMs: 1000,
    snapshotCount: 10_000,
    // This file is <build root>/benchmarks/compare.js: the members run the same build.
    latchkeyDist: path.resolve(__dirname, '..'),
    etcdBinary: process.env.ETCD_BINARY ?? '/usr/bin/etcd',
    readyTimeoutMs: 30_000,
  };
}

/** Puts `keys` distinct 256-byte keys, then reads the members' RSS. */
async function scaleRun(cluster: BenchCluster, keys: number): Promise<number[]> {
  const options = { ...optionsFor(PLAN[0]!, cluster.endpoints, 1), durationSeconds: undefined, total: keys };
  const report = await runBenchmark('put', { ...options, sequentialKeys: true, keySpaceSize: keys }, { progressOut: process.stderr });
  if (report.errors > 0) say(`${cluster.kind} scale run: ${report.errors} errors (${report.firstError})`);
  return cluster.residentBytes();
}

/** One measured row on `cluster`: `durationSeconds` after `warmupSeconds` of the same workload unmeasured. */
async function runPlanned(
  cluster: BenchCluster,
  planned: PlannedWorkload,
  { durationSeconds, warmupSeconds }: { durationSeconds: number; warmupSeconds: number },
  repeat: number,
  records: RunRecord[],
  rss: RssRecord[],
): Promise<void> {
  const kind = cluster.kind;
  if (planned.kind === 'failover') rss.push({ repeat, kind, bytesPerMember: cluster.residentBytes() });
  const options = { ...optionsFor(planned, cluster.endpoints, durationSeconds), warmupSeconds };
  try {
    const report = await runBenchmark(planned.workload, options, {
      progressOut: process.stderr,
      kill: (index) => cluster.kill(index),
    });
    records.push({ repeat, kind, label: planned.label, report });
    const extra = planned.kind === 'failover' ? ` leader ${Number(report.extra.leaderElectedMs).toFixed(0)} ms, winner ${Number(report.extra.campaignerElectedMs).toFixed(0)} ms` : '';
    say(`${kind} ${planned.label}: ${report.throughputPerSecond.toFixed(1)} ops/s, p99 ${report.latency.p99Ms.toFixed(2)} ms, ${report.errors} errors${extra}`);
  } catch (error) {
    const failure = error instanceof Error ? error.message : String(error);
    records.push({ repeat, kind, label: planned.label, failure });
    say(`${kind} ${planned.label}: FAILED ${failure}`);
    for (const dead of cluster.unexpectedExits()) say(`${kind} member ${dead.name} exited on its own; its last output:\n${dead.outputTail}`);
  }
}

async function runOnCluster(kind: ClusterKind, repeat: number, args: CompareArgs, records: RunRecord[], rss: RssRecord[], scaleRss: RssRecord[]): Promise<void> {
  say(`repeat ${repeat + 1}/${args.repeats}: starting 3-member ${kind}`);
  const cluster = await BenchCluster.start(kind, clusterSettings());
  try {
    const selected = PLAN.filter((planned) => args.only === undefined || planned.label.includes(args.only));
    const { cold, warm } = runOrder(selected);
    for (const planned of cold) await runPlanned(cluster, planned, { durationSeconds: args.durationSeconds, warmupSeconds: 0 }, repeat, records, rss);
    if (warm.length > 0 && args.clusterWarmupSeconds > 0) {
      const options = optionsFor(CLUSTER_WARMUP, cluster.endpoints, args.clusterWarmupSeconds);
      const report = await runBenchmark(CLUSTER_WARMUP.workload, options, { progressOut: process.stderr });
      say(`${kind} cluster warm-up (${CLUSTER_WARMUP.label}, ${args.clusterWarmupSeconds} s, not measured): ${report.throughputPerSecond.toFixed(1)} ops/s, ${report.errors} errors`);
    }
    for (const planned of warm) await runPlanned(cluster, planned, args, repeat, records, rss);
  } finally {
    // A refused LMDB commit the member recovered from (lmdb-js free-list bug) is worth knowing.
    for (const { name, line } of cluster.outputLines('LMDB refused a commit')) say(`${kind} member ${name}: ${line.slice(0, 400)}`);
    await cluster.stop();
  }
  if (args.scale) {
    say(`repeat ${repeat + 1}: ${kind} scale run (${args.scaleKeys} keys of 256 B)`);
    const fresh = await BenchCluster.start(kind, clusterSettings());
    try {
      scaleRss.push({ repeat, kind, bytesPerMember: await scaleRun(fresh, args.scaleKeys) });
    } finally {
      await fresh.stop();
    }
  }
}

function readCommand(command: string, args: string[]): string {
  try {
    return childProcess.execFileSync(command, args, { encoding: 'utf8', cwd: projectRoot(), stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return 'unknown';
  }
}

/** HEAD, marked when the working tree (outside benchmarks/results) has uncommitted changes. */
function describeCommit(): string {
  const head = readCommand('git', ['rev-parse', 'HEAD']);
  const changed = readCommand('git', ['status', '--porcelain'])
    .split('\n')
    .filter((line) => line.trim() !== '' && !line.includes('benchmarks/results'));
  return changed.length > 0 ? `${head} + uncommitted changes in ${changed.length} files` : head;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const startedMs = Date.now();
  const cpuAtStart = readCpuTimes();
  // Read before the run: the build under test is the tree as it is now.
  const commit = describeCommit();
  const records: RunRecord[] = [];
  const rss: RssRecord[] = [];
  const scaleRss: RssRecord[] = [];
  for (let repeat = 0; repeat < args.repeats; repeat++) {
    const order: ClusterKind[] = repeat % 2 === 0 ? ['etcd', 'latchkey'] : ['latchkey', 'etcd'];
    for (const kind of order) await runOnCluster(kind, repeat, args, records, rss, scaleRss);
  }
  const date = new Date().toISOString().slice(0, 10);
  const info: RunInfo = {
    date,
    commit,
    mode: args.scale ? `${args.mode} + scale` : args.mode,
    repeats: args.repeats,
    durationSeconds: args.durationSeconds,
    warmupSeconds: args.warmupSeconds,
    clusterWarmupSeconds: args.clusterWarmupSeconds,
    machine: `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB`,
    etcdVersion: readCommand(clusterSettings().etcdBinary, ['--version']).split('\n')[0]!.replace('etcd Version: ', ''),
    nodeVersion: process.version,
    wallSeconds: (Date.now() - startedMs) / 1000,
    loadAverage: os.loadavg().map((load) => load.toFixed(1)).join(' / '),
    stealPercent: stealPercent(cpuAtStart, readCpuTimes()),
  };
  const summaries = summariseAll(records);
  const resultsDir = args.outDir === undefined ? path.join(projectRoot(), 'benchmarks', 'results') : path.resolve(args.outDir);
  fs.mkdirSync(resultsDir, { recursive: true });
  const svgFile = `${date}.svg`;
  let markdown = renderMarkdown(info, summaries, rss, svgFile);
  if (args.scale) {
    markdown += `\n## Scale\n\n${renderRssTable(`RSS of the largest member after writing ${args.scaleKeys} keys of 256 B`, scaleRss)}\n`;
  }
  fs.writeFileSync(path.join(resultsDir, `${date}.md`), markdown);
  fs.writeFileSync(path.join(resultsDir, svgFile), renderSvg(summaries, `latchkey / etcd, ${date}, ${info.mode} (${info.commit.slice(0, 10)})`));
  fs.writeFileSync(path.join(resultsDir, `${date}.json`), `${JSON.stringify({ info, records, rss, scaleRss }, null, 2)}\n`);
  process.stdout.write(`${renderTable(summaries, rss)}\n\nwrote ${path.join(resultsDir, `${date}.md`)}\n`);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`bench:compare: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
