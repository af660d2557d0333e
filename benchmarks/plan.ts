import { BenchOptions, DEFAULT_OPTIONS } from '../src/bench/options';

/**
 * The workloads bench:compare runs against both clusters, with the same client and the same
 * settings. 256-byte values throughout; every worker workload is bounded by duration.
 */

export interface PlannedWorkload {
  /** Row label in the results. */
  label: string;
  workload: string;
  options: Partial<BenchOptions>;
  /** Which numbers the row compares. */
  kind: 'throughput' | 'failover';
  /**
   * 'cold': measured first, on the freshly started cluster, with no warm-up of any kind. The
   * other rows run after the cluster warm-up (compare's --cluster-warmup) and their own.
   */
  phase?: 'cold';
}

const VALUE_BYTES = 256;

export const PLAN: PlannedWorkload[] = [
  { label: 'put, 64 clients', workload: 'put', kind: 'throughput', options: { clients: 64, conns: 8, keySpaceSize: 100_000 } },
  // What a member does in its first seconds, before V8 has compiled its hot paths: no target.
  { label: 'put, 64 clients, cold: right after start', workload: 'put', kind: 'throughput', phase: 'cold', options: { clients: 64, conns: 8, keySpaceSize: 100_000 } },
  { label: 'put, 256 clients', workload: 'put', kind: 'throughput', options: { clients: 256, conns: 16, keySpaceSize: 100_000 } },
  { label: 'txn-put, 64 clients', workload: 'txn-put', kind: 'throughput', options: { clients: 64, conns: 8, keySpaceSize: 100_000 } },
  { label: 'range linearizable, 64 clients', workload: 'range', kind: 'throughput', options: { clients: 64, conns: 8, keySpaceSize: 1_000, consistency: 'l' } },
  { label: 'range serializable, 64 clients', workload: 'range', kind: 'throughput', options: { clients: 64, conns: 8, keySpaceSize: 1_000, consistency: 's' } },
  { label: 'watch, 100 watchers, 4 putters', workload: 'watch', kind: 'throughput', options: { clients: 4, conns: 4, watchers: 100, watchStreams: 10 } },
  { label: 'lease-keepalive, 64 clients', workload: 'lease-keepalive', kind: 'throughput', options: { clients: 64, conns: 8 } },
  { label: 'lock, 1 name, 16 clients', workload: 'lock', kind: 'throughput', options: { clients: 16, conns: 4, lockNames: 1 } },
  { label: 'lock, 64 names, 64 clients', workload: 'lock', kind: 'throughput', options: { clients: 64, conns: 8, lockNames: 64 } },
  // The same cycles through etcd's lock service: the server runs the mutex, the client makes two calls.
  { label: 'v3lock RPC, 1 name, 16 clients', workload: 'v3lock', kind: 'throughput', options: { clients: 16, conns: 4, lockNames: 1 } },
  { label: 'v3lock RPC, 64 names, 64 clients', workload: 'v3lock', kind: 'throughput', options: { clients: 64, conns: 8, lockNames: 64 } },
  // Last: it kills a member. A 2 s session TTL (etcd's minimum here is 1.5 s) bounds the wait.
  { label: 'election failover', workload: 'election-failover', kind: 'failover', options: { sessionTtlSeconds: 2 } },
];

/** The order one cluster runs the plan in: the cold rows, then (after the cluster warm-up) the rest. */
export function runOrder(plan: readonly PlannedWorkload[]): { cold: PlannedWorkload[]; warm: PlannedWorkload[] } {
  return { cold: plan.filter((p) => p.phase === 'cold'), warm: plan.filter((p) => p.phase !== 'cold') };
}

/** The unmeasured load each fresh cluster gets before its warm rows: the put row's workload. */
export const CLUSTER_WARMUP = PLAN[0]!;

export function optionsFor(planned: PlannedWorkload, endpoints: string[], durationSeconds: number): BenchOptions {
  return {
    ...DEFAULT_OPTIONS,
    valSize: VALUE_BYTES,
    ...planned.options,
    endpoints,
    durationSeconds,
    total: undefined,
  };
}
