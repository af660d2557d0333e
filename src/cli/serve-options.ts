import { Command } from 'commander';
import {
  ConfigError,
  defaultConfig,
  parseInitialCluster,
  parseUrlList,
  type MemberConfig,
  type TlsFlags,
} from '../server/config';

/** One etcd flag: its name, help text, and how its text becomes a config field. */
interface FlagSpec {
  flag: string;
  help: string;
  apply: (config: MemberConfig, value: string) => void;
}

function boolean(flag: string, value: string): boolean {
  if (value === 'true' || value === '1') return true;
  if (value === 'false' || value === '0') return false;
  throw new ConfigError(`${flag}: "${value}" is not true or false`);
}

/** The TLS flags of one side: `prefix` is '' for client URLs and 'peer-' for peer URLs. */
function tlsFlags(prefix: '' | 'peer-', side: (c: MemberConfig) => TlsFlags, what: string): FlagSpec[] {
  const specs: FlagSpec[] = [
    { flag: `${prefix}cert-file`, help: `path to the ${what} server TLS cert file`, apply: (c, v) => { side(c).certFile = v; } },
    { flag: `${prefix}key-file`, help: `path to the ${what} server TLS key file`, apply: (c, v) => { side(c).keyFile = v; } },
    { flag: `${prefix}trusted-ca-file`, help: `path to the ${what} server TLS trusted CA file`, apply: (c, v) => { side(c).trustedCaFile = v; } },
    { flag: `${prefix}client-cert-auth`, help: `enable ${what} client cert authentication`, apply: (c, v) => { side(c).clientCertAuth = boolean(`--${prefix}client-cert-auth`, v); } },
    { flag: `${prefix}auto-tls`, help: `${what} TLS using generated certificates`, apply: (c, v) => { side(c).autoTls = boolean(`--${prefix}auto-tls`, v); } },
  ];
  if (prefix === 'peer-') {
    specs.push({ flag: 'peer-cert-allowed-cn', help: 'required CN for client certs connecting to the peer endpoint', apply: (c, v) => { c.peerTls.allowedCn = v; } });
  }
  return specs;
}

function integer(flag: string, value: string, min: number): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < min) throw new ConfigError(`${flag}: "${value}" is not an integer >= ${min}`);
  return n;
}

const FLAGS: FlagSpec[] = [
  { flag: 'name', help: 'human-readable name for this member', apply: (c, v) => { c.name = v; } },
  { flag: 'data-dir', help: 'path to the data directory (default "<name>.latchkey")', apply: (c, v) => { c.dataDir = v; } },
  { flag: 'listen-client-urls', help: 'URLs to listen on for client traffic', apply: (c, v) => { c.listenClientUrls = parseUrlList(v, '--listen-client-urls'); } },
  { flag: 'advertise-client-urls', help: 'client URLs advertised to the cluster', apply: (c, v) => { c.advertiseClientUrls = parseUrlList(v, '--advertise-client-urls'); } },
  {
    flag: 'listen-metrics-urls',
    help: 'URLs to serve /metrics and /health on',
    apply: (c, v) => { c.listenMetricsUrls = parseUrlList(v, '--listen-metrics-urls'); },
  },
  { flag: 'listen-peer-urls', help: 'URLs to listen on for peer traffic', apply: (c, v) => { c.listenPeerUrls = parseUrlList(v, '--listen-peer-urls'); } },
  { flag: 'initial-advertise-peer-urls', help: "this member's peer URLs to advertise", apply: (c, v) => { c.initialAdvertisePeerUrls = parseUrlList(v, '--initial-advertise-peer-urls'); } },
  { flag: 'initial-cluster', help: 'initial cluster configuration for bootstrapping (name=url,...)', apply: (c, v) => { c.initialCluster = parseInitialCluster(v); } },
  {
    flag: 'initial-cluster-state',
    help: 'initial cluster state ("new" or "existing")',
    apply: (c, v) => {
      if (v !== 'new' && v !== 'existing') throw new ConfigError(`--initial-cluster-state: "${v}" is not new or existing`);
      c.initialClusterState = v;
    },
  },
  { flag: 'initial-cluster-token', help: 'initial cluster token for the cluster during bootstrap', apply: (c, v) => { c.initialClusterToken = v; } },
  { flag: 'snapshot-count', help: 'number of committed transactions to trigger a snapshot to disk', apply: (c, v) => { c.snapshotCount = integer('--snapshot-count', v, 1); } },
  { flag: 'snapshot-catchup-entries', help: 'entries kept in the raft log after a snapshot for slow followers', apply: (c, v) => { c.snapshotCatchupEntries = integer('--snapshot-catchup-entries', v, 1); } },
  { flag: 'heartbeat-interval', help: 'time (in milliseconds) of a heartbeat interval', apply: (c, v) => { c.heartbeatIntervalMs = integer('--heartbeat-interval', v, 1); } },
  { flag: 'election-timeout', help: 'time (in milliseconds) for an election to timeout', apply: (c, v) => { c.electionTimeoutMs = integer('--election-timeout', v, 1); } },
  { flag: 'quota-backend-bytes', help: 'raise alarms when backend size exceeds the given quota (0 = default 2 GiB)', apply: (c, v) => { const n = integer('--quota-backend-bytes', v, 0); c.quotaBackendBytes = n === 0 ? defaultConfig().quotaBackendBytes : n; } },
  {
    flag: 'auto-compaction-mode',
    help: 'interpret auto-compaction-retention as periodic (a duration) or revision (a count)',
    apply: (c, v) => {
      if (v !== 'periodic' && v !== 'revision') throw new ConfigError(`--auto-compaction-mode: "${v}" is not periodic or revision`);
      c.autoCompactionMode = v;
    },
  },
  {
    flag: 'auto-compaction-retention',
    help: 'auto compaction retention: a duration or hours (periodic), revisions (revision); 0 disables',
    apply: (c, v) => {
      if (!/^(\d+|(\d+(\.\d+)?(ms|s|m|h))+)$/.test(v.trim())) throw new ConfigError(`--auto-compaction-retention: "${v}" is not a duration or a number`);
      c.autoCompactionRetention = v.trim();
    },
  },
  { flag: 'max-request-bytes', help: 'maximum client request size in bytes the server will accept', apply: (c, v) => { c.maxRequestBytes = integer('--max-request-bytes', v, 1); } },
  { flag: 'max-txn-ops', help: 'maximum number of operations permitted in a transaction', apply: (c, v) => { c.maxTxnOps = integer('--max-txn-ops', v, 1); } },
  { flag: 'log-level', help: 'log level: debug, info, warn, error, panic, fatal', apply: (c, v) => { c.logLevel = v === 'panic' ? 'fatal' : v; } },
  { flag: 'wal-segment-bytes', help: 'size of a WAL segment file (latchkey; etcd fixes 64 MiB)', apply: (c, v) => { c.walSegmentBytes = integer('--wal-segment-bytes', v, 4096); } },
  {
    flag: 'experimental-watch-progress-notify-interval',
    help: 'duration of periodic watch progress notifications (e.g. 10m, 5s, 500ms)',
    apply: (c, v) => { c.watchProgressNotifyIntervalMs = parseDurationMs(v, '--experimental-watch-progress-notify-interval'); },
  },
  ...tlsFlags('', (c) => c.clientTls, 'client'),
  ...tlsFlags('peer-', (c) => c.peerTls, 'peer'),
  {
    flag: 'cipher-suites',
    help: 'comma-separated list of supported TLS cipher suites between client/server and peers',
    apply: (c, v) => { c.cipherSuites = v.split(',').map((s) => s.trim()).filter((s) => s.length > 0); },
  },
  {
    flag: 'auth-token',
    help: "v3 authentication token type and its options ('simple' or 'jwt')",
    apply: (c, v) => {
      const kind = v.split(',')[0];
      if (kind !== 'simple' && kind !== 'jwt') throw new ConfigError(`--auth-token: unknown token type "${v}"`);
      c.authToken = v;
    },
  },
  { flag: 'auth-token-ttl', help: 'time (in seconds) of the auth-token-ttl', apply: (c, v) => { c.authTokenTtlSeconds = integer('--auth-token-ttl', v, 1); } },
  {
    flag: 'bcrypt-cost',
    help: 'cost / strength of the bcrypt algorithm for hashing auth passwords (4..31)',
    apply: (c, v) => {
      const n = integer('--bcrypt-cost', v, 4);
      if (n > 31) throw new ConfigError(`--bcrypt-cost: "${v}" is above 31`);
      c.bcryptCost = n;
    },
  },
  { flag: 'max-concurrent-streams', help: 'maximum concurrent streams that each client can open at a time', apply: (c, v) => { c.maxConcurrentStreams = integer('--max-concurrent-streams', v, 1); } },
  { flag: 'grpc-keepalive-min-time', help: 'minimum interval duration that a client should wait before pinging server', apply: (c, v) => { c.grpcKeepaliveMinTimeMs = parseDurationMs(v, '--grpc-keepalive-min-time'); } },
  { flag: 'grpc-keepalive-interval', help: 'frequency duration of server-to-client ping to check if a connection is alive (0 to disable)', apply: (c, v) => { c.grpcKeepaliveIntervalMs = parseDurationMs(v, '--grpc-keepalive-interval'); } },
  { flag: 'grpc-keepalive-timeout', help: 'additional duration of wait before closing a non-responsive connection (0 to disable)', apply: (c, v) => { c.grpcKeepaliveTimeoutMs = parseDurationMs(v, '--grpc-keepalive-timeout'); } },
];

/** Go-style durations as etcd takes them: 10m, 5s, 500ms, 1m30s. */
export function parseDurationMs(text: string, flag: string): number {
  const unitMs: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  if (text === '0') return 0;
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== text) throw new ConfigError(`${flag}: "${text}" is not a duration`);
  return parts.reduce((sum, p) => sum + Number(p[1]) * (unitMs[p[2] ?? 's'] ?? 0), 0);
}

function envName(flag: string): string {
  return `ETCD_${flag.toUpperCase().replace(/-/g, '_')}`;
}

/** etcd's boolean flags: a bare `--client-cert-auth` means true, as Go's flag package has it. */
const BOOLEAN_FLAGS = new Set(['client-cert-auth', 'auto-tls', 'peer-client-cert-auth', 'peer-auto-tls']);

export function addServeFlags(command: Command): Command {
  for (const spec of FLAGS) {
    if (BOOLEAN_FLAGS.has(spec.flag)) command.option(`--${spec.flag} [value]`, `${spec.help} [env ${envName(spec.flag)}]`);
    else command.option(`--${spec.flag} <value>`, `${spec.help} [env ${envName(spec.flag)}]`);
  }
  return command;
}

/**
 * Flags win over ETCD_* variables, which win over defaults — etcd's precedence. A flag
 * that depends on --name (data dir, the one-member initial cluster) follows the name.
 */
export function configFromOptions(options: Record<string, string | boolean | undefined>, env: NodeJS.ProcessEnv): MemberConfig {
  const config = defaultConfig();
  const given = new Set<string>();
  for (const spec of FLAGS) {
    const key = spec.flag.replace(/-([a-z])/g, (_m, ch: string) => ch.toUpperCase());
    const flagValue = options[key];
    // A bare boolean flag arrives from commander as `true`.
    const value = flagValue === true ? 'true' : flagValue === false ? 'false' : (flagValue ?? env[envName(spec.flag)]);
    if (value === undefined) continue;
    spec.apply(config, value);
    given.add(spec.flag);
  }
  if (!given.has('data-dir')) config.dataDir = `${config.name}.latchkey`;
  if (!given.has('initial-cluster')) config.initialCluster = new Map([[config.name, config.initialAdvertisePeerUrls]]);
  if (!config.initialCluster.has(config.name)) {
    throw new ConfigError(`couldn't find local name "${config.name}" in the initial cluster configuration`);
  }
  return config;
}
