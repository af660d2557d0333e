import { runElectionFailover, KillMember } from './failover';
import { BenchOptions, validateOptions } from './options';
import { ProgressBar, ProgressSink, silentProgress } from './progress';
import { buildReport, BenchReport } from './report';
import { ChannelPool } from './rpc';
import { runWorkers } from './runner';
import { lockWorkload } from './workloads/lock';
import { leaseKeepAliveWorkload } from './workloads/lease-keepalive';
import { putWorkload, txnPutWorkload } from './workloads/put';
import { rangeWorkload } from './workloads/range';
import { v3lockWorkload } from './workloads/v3lock';
import type { WorkloadFactory } from './workloads/types';
import { watchWorkload } from './workloads/watch';

/** The workloads driven by concurrent workers; election-failover is a one-shot scenario. */
const WORKER_WORKLOADS: Record<string, WorkloadFactory> = {
  put: putWorkload,
  range: rangeWorkload,
  'txn-put': txnPutWorkload,
  watch: watchWorkload,
  'lease-keepalive': leaseKeepAliveWorkload,
  lock: lockWorkload,
  v3lock: v3lockWorkload,
};

export const WORKLOADS = [...Object.keys(WORKER_WORKLOADS), 'election-failover'] as const;

export interface RunOptions {
  /** Where the progress bar goes; undefined = no progress output. */
  progressOut?: NodeJS.WriteStream;
  /** election-failover: how to kill a member (default: SIGKILL to --member-pids). */
  kill?: KillMember;
}

function settingsOf(options: BenchOptions): BenchReport['settings'] {
  const settings: BenchReport['settings'] = {
    endpoints: options.endpoints.join(','),
    conns: options.conns,
    clients: options.clients,
    keySize: options.keySize,
    valSize: options.valSize,
    keySpaceSize: options.keySpaceSize,
    sequentialKeys: options.sequentialKeys,
  };
  if (options.total !== undefined) settings.total = options.total;
  if (options.durationSeconds !== undefined) settings.durationSeconds = options.durationSeconds;
  if (options.warmupSeconds !== undefined && options.warmupSeconds > 0) settings.warmupSeconds = options.warmupSeconds;
  return settings;
}

/** Runs one workload against the endpoints and returns its report. */
export async function runBenchmark(workload: string, options: BenchOptions, run: RunOptions = {}): Promise<BenchReport> {
  validateOptions(options);
  if (workload === 'election-failover') {
    const kill = run.kill ?? (options.memberPids !== undefined ? killFromPids(options.memberPids) : undefined);
    if (kill === undefined) throw new Error('election-failover needs --member-pids (PIDs of the members, in --endpoints order)');
    const result = await runElectionFailover(options, kill);
    return buildReport(
      workload,
      { ...settingsOf(options), sessionTtlSeconds: options.sessionTtlSeconds },
      { histogram: result.histogram, ops: 1, errors: 0, elapsedMs: result.campaignerElectedMs },
      { leaderElectedMs: result.leaderElectedMs, campaignerElectedMs: result.campaignerElectedMs, killedEndpoint: result.killedEndpoint },
    );
  }
  const factory = WORKER_WORKLOADS[workload];
  if (factory === undefined) throw new Error(`unknown workload '${workload}' (one of: ${WORKLOADS.join(', ')})`);
  const pool = new ChannelPool(options.endpoints, options.conns);
  try {
    const driver = await factory(options, pool);
    try {
      const bound = {
        clients: options.clients,
        total: options.total,
        durationMs: options.durationSeconds === undefined ? undefined : options.durationSeconds * 1000,
      };
      const warmupMs = (options.warmupSeconds ?? 0) * 1000;
      if (warmupMs > 0) {
        // Same workers and connections, results dropped: only the steady state is reported.
        const warmup = { clients: options.clients, total: undefined, durationMs: warmupMs };
        const warmupProgress = run.progressOut === undefined ? silentProgress : new ProgressBar(run.progressOut, `${workload} warm-up`, warmup);
        await runWorkers(warmup, driver.op, warmupProgress);
      }
      const progress: ProgressSink = run.progressOut === undefined ? silentProgress : new ProgressBar(run.progressOut, workload, bound);
      const result = await runWorkers(bound, driver.op, progress);
      const settings = { ...settingsOf(options), ...workloadSettings(workload, options) };
      return buildReport(workload, settings, result);
    } finally {
      await driver.close();
    }
  } finally {
    pool.close();
  }
}

function workloadSettings(workload: string, options: BenchOptions): BenchReport['settings'] {
  if (workload === 'range') return { consistency: options.consistency };
  if (workload === 'watch') return { watchers: options.watchers, watchStreams: options.watchStreams };
  if (workload === 'lock' || workload === 'v3lock') return { lockNames: options.lockNames };
  return {};
}

function killFromPids(pids: number[]): KillMember {
  return async (index) => {
    const pid = pids[index];
    if (pid === undefined) throw new Error(`--member-pids has no PID for endpoint #${index + 1}`);
    process.kill(pid, 'SIGKILL');
  };
}
