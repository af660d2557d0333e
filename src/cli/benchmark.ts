import { Command, InvalidArgumentError } from 'commander';
import { runBenchmark, WORKLOADS } from '../bench/benchmark';
import { BenchOptions, DEFAULT_OPTIONS } from '../bench/options';
import { formatReport } from '../bench/report';

/**
 * `latchkey benchmark <workload> [flags]`: load generator for any etcd v3 endpoint, modelled
 * on etcd's `benchmark` tool. Progress goes to stderr; the report (text or --json) to stdout.
 */

interface BenchmarkFlags {
  endpoints: string;
  conns: number;
  clients: number;
  total?: number;
  duration?: number;
  warmup?: number;
  keySize: number;
  valSize: number;
  keySpaceSize: number;
  sequentialKeys?: boolean;
  consistency: string;
  watchers: number;
  watchStreams: number;
  lockNames: number;
  sessionTtl: number;
  memberPids?: string;
  json?: boolean;
}

function integer(value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed)) throw new InvalidArgumentError('not an integer');
  return parsed;
}

function seconds(value: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(value.trim());
  if (match === null) throw new InvalidArgumentError('expected a duration such as 10, 10s, 500ms or 1m');
  const amount = Number(match[1]);
  return match[2] === 'ms' ? amount / 1000 : match[2] === 'm' ? amount * 60 : amount;
}

export function optionsFromFlags(flags: BenchmarkFlags): BenchOptions {
  if (flags.consistency !== 'l' && flags.consistency !== 's') throw new Error(`--consistency must be l or s, got ${flags.consistency}`);
  return {
    endpoints: flags.endpoints.split(',').map((e) => e.trim()).filter((e) => e !== ''),
    conns: flags.conns,
    clients: flags.clients,
    total: flags.total ?? (flags.duration === undefined ? 10_000 : undefined),
    durationSeconds: flags.duration,
    ...(flags.warmup === undefined ? {} : { warmupSeconds: flags.warmup }),
    keySize: flags.keySize,
    valSize: flags.valSize,
    keySpaceSize: flags.keySpaceSize,
    sequentialKeys: flags.sequentialKeys === true,
    consistency: flags.consistency,
    watchers: flags.watchers,
    watchStreams: flags.watchStreams,
    lockNames: flags.lockNames,
    sessionTtlSeconds: flags.sessionTtl,
    memberPids: flags.memberPids?.split(',').map((pid) => integer(pid.trim())),
  };
}

export function registerBenchmarkCommand(program: Command): void {
  const d = DEFAULT_OPTIONS;
  program
    .command('benchmark')
    .description(`load-test any etcd v3 endpoint; workloads: ${WORKLOADS.join(', ')}`)
    .argument('<workload>', WORKLOADS.join(' | '))
    .option('--endpoints <endpoints>', 'comma-separated gRPC endpoints', d.endpoints.join(','))
    .option('--conns <n>', 'gRPC connections, round-robin over the endpoints', integer, d.conns)
    .option('--clients <n>', 'concurrent workers sharing the connections', integer, d.clients)
    .option('--total <n>', 'operations to run (default 10000 unless --duration)', integer)
    .option('--duration <time>', 'run for this long instead (10, 10s, 500ms, 1m)', seconds)
    .option('--warmup <time>', 'run the workload this long first, unmeasured (JIT warm-up, connection set-up)', seconds)
    .option('--key-size <bytes>', 'key size', integer, d.keySize)
    .option('--val-size <bytes>', 'value size', integer, d.valSize)
    .option('--key-space-size <n>', 'distinct keys', integer, d.keySpaceSize)
    .option('--sequential-keys', 'keys 0, 1, 2, … instead of random')
    .option('--consistency <l|s>', 'range: linearizable (l) or serializable (s)', d.consistency)
    .option('--watchers <n>', 'watch: number of watchers', integer, d.watchers)
    .option('--watch-streams <n>', 'watch: streams the watchers share', integer, d.watchStreams)
    .option('--lock-names <n>', 'lock, v3lock: distinct lock names (1 = one contended lock)', integer, d.lockNames)
    .option('--session-ttl <seconds>', 'lock, v3lock, election-failover: session lease TTL', integer, d.sessionTtlSeconds)
    .option('--member-pids <pids>', 'election-failover: member PIDs in --endpoints order (the leader is SIGKILLed)')
    .option('--json', 'print the report as JSON')
    .action(async (workload: string, flags: BenchmarkFlags) => {
      try {
        const report = await runBenchmark(workload, optionsFromFlags(flags), { progressOut: process.stderr });
        process.stdout.write(flags.json === true ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report));
        if (report.errors > 0) process.exitCode = 1;
      } catch (err) {
        process.stderr.write(`latchkey benchmark: ${err instanceof Error ? err.message : String(err)}\n`);
        process.exitCode = 1;
      }
    });
}
