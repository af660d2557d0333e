import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Logger } from '../../log';
import type { CheckResult } from '../history';
import { historyToJson } from '../checkers';
import { DEFAULT_SCHEDULE, Nemesis, type NemesisSchedule } from '../faults/nemesis';
import { FAILPOINTS_UNAVAILABLE_ON_ETCD, isFailpointFault, type FaultKind } from '../faults/types';
import { runSummaryJson } from '../report/summary-json';
import { renderReport, type RunSummary } from '../report/report-md';
import { renderTimeline } from '../report/timeline-svg';
import { AppendWorkload } from '../workloads/append';
import { ElectionWorkload } from '../workloads/election';
import { LeaseWorkload } from '../workloads/lease';
import { LockWorkload } from '../workloads/lock';
import { RegisterWorkload } from '../workloads/register';
import { WatchWorkload } from '../workloads/watch';
import type { Workload, WorkloadDeps } from '../workloads/types';
import { Cluster, type Target } from './cluster';
import { Random } from './random';
import { Clock, Recorder } from './recorder';
import { EtcdRpc } from './rpc';

/**
 * `latchkey verify`: start a cluster, drive workloads through several clients while the
 * nemesis injects faults, heal, wait for quiescence, check the history, write
 * history.json / report.md / timeline.svg, and return one verdict.
 */

export const WORKLOAD_NAMES = ['register', 'append', 'watch', 'lock', 'election', 'lease'] as const;
export type WorkloadName = (typeof WORKLOAD_NAMES)[number];

export interface VerifyOptions {
  target: Target;
  members: number;
  durationMs: number;
  faults: FaultKind[];
  workloads: WorkloadName[];
  seed: number;
  outDir: string;
  /** Clients per workload (default 5). */
  clients?: number;
  /** Bound on operations per client (default 5,000). */
  maxOpsPerClient?: number;
  log: Logger;
  /** Called with a progress line about once a second (the CLI writes it to stderr). */
  progress?: (line: string) => void;
  etcdBinary?: string;
  latchkeyDist?: string;
  /** How faults are picked and paced (default: random order, 1–3 s faults, 1–2 s calm). */
  schedule?: NemesisSchedule;
}

export type Verdict = 'PASS' | 'FAIL' | 'UNKNOWN';

export interface VerifyOutcome {
  verdict: Verdict;
  /** `verify: PASS (...)` — the one line the CLI prints. */
  line: string;
  /** 0 PASS, 1 FAIL, 3 UNKNOWN (a checker ran out of budget or is missing). */
  exitCode: number;
  checks: CheckResult[];
  files: { history: string; report: string; timeline: string; summary: string; logs: string };
}

const QUIESCENCE_TIMEOUT_MS = 30_000;

function makeWorkload(name: WorkloadName, deps: WorkloadDeps): Workload {
  switch (name) {
    case 'register':
      return new RegisterWorkload(deps);
    case 'append':
      return new AppendWorkload(deps);
    case 'lock':
      return new LockWorkload(deps);
    case 'lease':
      return new LeaseWorkload(deps);
    case 'watch':
      return new WatchWorkload(deps);
    case 'election':
      return new ElectionWorkload(deps);
  }
}


export async function runVerify(options: VerifyOptions): Promise<VerifyOutcome> {
  if (options.workloads.length === 0) throw new Error('no workload given');
  if (!(options.durationMs > 0) || options.durationMs > 24 * 3600_000) throw new Error(`bad duration ${options.durationMs}`);
  const log = options.log.child({ component: 'verify' });
  const clock = new Clock();
  const recorder = new Recorder(clock);
  const random = new Random(options.seed);
  const logsDir = path.join(options.outDir, 'logs');
  const cluster = new Cluster({ target: options.target, members: options.members, log, etcdBinary: options.etcdBinary, latchkeyDist: options.latchkeyDist, logDir: logsDir });
  // etcd has no failpoints: those kinds are left out of its schedule and said so once.
  const unavailable: FaultKind[] = options.target === 'etcd' ? options.faults.filter(isFailpointFault) : [];
  const notes = unavailable.length > 0 ? [`${unavailable.join(', ')}: ${FAILPOINTS_UNAVAILABLE_ON_ETCD}`] : [];
  const runnableFaults = options.faults.filter((kind) => !unavailable.includes(kind));
  const nemesis = new Nemesis(cluster, runnableFaults, random.fork(), clock, log, options.schedule ?? DEFAULT_SCHEDULE);
  const clientsPerWorkload = options.clients ?? 5;
  const deps: WorkloadDeps = { recorder, maxOpsPerWorker: options.maxOpsPerClient ?? 5_000, prefix: `/verify/${options.seed}/` };
  const workloads = options.workloads.map((name) => makeWorkload(name, deps));
  const rpcs: EtcdRpc[] = [];
  const progress = options.progress ?? ((): void => undefined);
  let ticker: NodeJS.Timeout | undefined;
  let runEndMs = 0;
  try {
    for (const note of notes) progress(`verify: faults ${note}`);
    progress(`verify: starting ${options.members}-member ${options.target} cluster`);
    await cluster.start();
    clock.reset();
    const startMs = clock.now();
    const stopAtMs = startMs + options.durationMs;
    const stopped = (): boolean => clock.now() >= stopAtMs;
    ticker = setInterval(() => {
      const c = recorder.counters;
      progress(`verify: ${((clock.now() - startMs) / 1000).toFixed(0)}s/${(options.durationMs / 1000).toFixed(0)}s ops ok=${c.ok} fail=${c.fail} unknown=${c.unknown} fault: ${nemesis.current}`);
    }, 1_000);
    const workers: Promise<void>[] = [];
    for (const workload of workloads) {
      for (let w = 0; w < clientsPerWorkload; w++) {
        const member = cluster.members[w % cluster.members.length]!;
        const rpc = new EtcdRpc(`127.0.0.1:${member.clientPort}`);
        rpcs.push(rpc);
        workers.push(workload.runWorker(w, rpc, random.fork(), stopped));
      }
    }
    await Promise.all([...workers, nemesis.run(stopAtMs)]);
    runEndMs = clock.now();
    for (const event of nemesis.events) if (event.endMs === 0) event.endMs = runEndMs;
    progress('verify: healing and waiting for quiescence');
    await nemesis.healAll();
    const quiescence = await cluster.waitQuiescent(QUIESCENCE_TIMEOUT_MS);
    clearInterval(ticker);
    ticker = undefined;

    const checks: CheckResult[] = [];
    const histories: Record<string, unknown> = {};
    const finalRpc = cluster.members[0]!.rpc;
    if (quiescence.ok) {
      progress('verify: final reads and checking');
      const finished = await Promise.all(workloads.map((w) => w.finish(finalRpc).then((r) => ({ name: w.name, r }))));
      for (const { name, r } of finished) {
        histories[name] = r.history;
        checks.push(...r.checks);
      }
    }

    const invalid = checks.filter((c) => c.outcome === 'invalid');
    const unknown = checks.filter((c) => c.outcome === 'unknown');
    const verdict: Verdict = !quiescence.ok || invalid.length > 0 ? 'FAIL' : unknown.length > 0 ? 'UNKNOWN' : 'PASS';
    const c = recorder.counters;
    const why = !quiescence.ok
      ? `cluster did not quiesce: ${quiescence.detail}`
      : invalid.length > 0
        ? `${invalid.map((x) => `${x.checker}: ${x.violations.length} violation(s)`).join('; ')}`
        : unknown.length > 0
          ? `inconclusive: ${unknown.map((x) => x.checker).join(', ')}`
          : `${checks.map((x) => x.checker).join(', ')} valid`;
    const line = `verify: ${verdict} (${why}; ${options.target} ${options.members} members, ${options.workloads.join('+')}, ${c.ok + c.fail + c.unknown} ops ok=${c.ok} fail=${c.fail} unknown=${c.unknown}, ${nemesis.events.filter((e) => e.skipped === undefined).length} faults, seed ${options.seed}) -> ${options.outDir}`;

    fs.mkdirSync(options.outDir, { recursive: true });
    const files = {
      history: path.join(options.outDir, 'history.json'),
      report: path.join(options.outDir, 'report.md'),
      timeline: path.join(options.outDir, 'timeline.svg'),
      summary: path.join(options.outDir, 'summary.json'),
      logs: logsDir,
    };
    const summary: RunSummary = {
      target: options.target,
      members: options.members,
      workload: options.workloads.join(','),
      faults: options.faults.join(',') || 'none',
      seed: options.seed,
      durationMs: runEndMs - startMs,
      counters: { ...c },
      quiescence,
      peerConnections: {
        attributed: [...cluster.proxies.values()].reduce((n, p) => n + p.attributed, 0),
        unattributed: [...cluster.proxies.values()].reduce((n, p) => n + p.unattributed, 0),
      },
      checks,
      faultEvents: nemesis.events,
      notes,
      verdict: line,
    };
    fs.writeFileSync(files.history, historyToJson({ summary: { ...summary, checks: undefined }, faults: nemesis.events, workloads: histories }));
    fs.writeFileSync(files.report, renderReport(summary));
    fs.writeFileSync(files.timeline, renderTimeline(recorder.bars, nemesis.events, runEndMs));
    fs.writeFileSync(files.summary, runSummaryJson(summary, verdict, options.faults, unavailable));
    return { verdict, line, exitCode: verdict === 'PASS' ? 0 : verdict === 'FAIL' ? 1 : 3, checks, files };
  } finally {
    if (ticker !== undefined) clearInterval(ticker);
    for (const rpc of rpcs) rpc.close();
    await cluster.destroy();
  }
}
