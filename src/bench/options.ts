/** Everything a benchmark run is configured by (the CLI flags, parsed). */
export interface BenchOptions {
  endpoints: string[];
  /** gRPC channels, spread round-robin over the endpoints. */
  conns: number;
  /** Concurrent workers; worker w uses channel w mod conns. */
  clients: number;
  /** Stop after this many operations (exclusive with durationSeconds; one must be set). */
  total?: number;
  /** Stop after this long. */
  durationSeconds?: number;
  /**
   * Run the workload this long first, unmeasured, on the same connections: a JIT-compiled
   * server (or client) is measured in its steady state, not while it compiles hot paths.
   */
  warmupSeconds?: number;
  keySize: number;
  valSize: number;
  /** Keys are drawn from [0, keySpaceSize). */
  keySpaceSize: number;
  /** Keys 0, 1, 2, … instead of random ones. */
  sequentialKeys: boolean;
  /** range: 'l' linearizable, 's' serializable. */
  consistency: 'l' | 's';
  /** watch: number of watchers on the watched keys. */
  watchers: number;
  /** watch: streams the watchers are spread over. */
  watchStreams: number;
  /** lock, v3lock: distinct lock names (1 = every worker contends for one name). */
  lockNames: number;
  /** lock, v3lock and election-failover: session lease TTL. */
  sessionTtlSeconds: number;
  /** election-failover: PIDs of the member processes, in --endpoints order (to kill the leader). */
  memberPids?: number[];
}

export const DEFAULT_OPTIONS: BenchOptions = {
  endpoints: ['127.0.0.1:2379'],
  conns: 1,
  clients: 1,
  keySize: 8,
  valSize: 8,
  keySpaceSize: 1,
  sequentialKeys: false,
  consistency: 'l',
  watchers: 100,
  watchStreams: 10,
  lockNames: 1,
  sessionTtlSeconds: 10,
};

/** Throws on contradictory or out-of-range options (reported to the user as a usage error). */
export function validateOptions(options: BenchOptions): void {
  const positive = (name: string, value: number): void => {
    if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a positive integer, got ${value}`);
  };
  if (options.endpoints.length === 0) throw new Error('--endpoints: at least one endpoint is required');
  positive('--conns', options.conns);
  positive('--clients', options.clients);
  positive('--key-size', options.keySize);
  positive('--key-space-size', options.keySpaceSize);
  positive('--watchers', options.watchers);
  positive('--watch-streams', options.watchStreams);
  positive('--lock-names', options.lockNames);
  positive('--session-ttl', options.sessionTtlSeconds);
  if (!Number.isInteger(options.valSize) || options.valSize < 0) throw new Error(`--val-size must be ≥ 0, got ${options.valSize}`);
  if (options.total !== undefined && options.durationSeconds !== undefined) throw new Error('give --total or --duration, not both');
  if (options.total === undefined && options.durationSeconds === undefined) throw new Error('give --total or --duration');
  if (options.total !== undefined) positive('--total', options.total);
  if (options.durationSeconds !== undefined && !(options.durationSeconds > 0)) throw new Error('--duration must be positive');
  if (options.warmupSeconds !== undefined && !(options.warmupSeconds >= 0)) throw new Error('--warmup must be ≥ 0');
}
