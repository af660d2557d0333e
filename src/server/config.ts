import * as fs from 'node:fs';
import * as tls from 'node:tls';
import { cipherOptions, unknownCipherSuites } from '../tls/cipher-suites';

/**
 * The member's configuration, named and defaulted as etcd names and defaults its flags,
 * so an etcd command line or ETCD_* environment starts a latchkey member unchanged.
 */
export interface MemberConfig {
  name: string;
  dataDir: string;
  listenClientUrls: string[];
  advertiseClientUrls: string[];
  /** Extra listeners for /metrics and /health only (etcd's --listen-metrics-urls). */
  listenMetricsUrls: string[];
  listenPeerUrls: string[];
  initialAdvertisePeerUrls: string[];
  /** name → peer URLs, in flag order. */
  initialCluster: Map<string, string[]>;
  initialClusterState: 'new' | 'existing';
  initialClusterToken: string;
  snapshotCount: number;
  snapshotCatchupEntries: number;
  heartbeatIntervalMs: number;
  electionTimeoutMs: number;
  quotaBackendBytes: number;
  maxRequestBytes: number;
  maxTxnOps: number;
  logLevel: string;
  walSegmentBytes: number;
  watchProgressNotifyIntervalMs: number;
  /** --auto-compaction-mode: periodic (retention is a duration or hours) or revision (a count). */
  autoCompactionMode: 'periodic' | 'revision';
  /** --auto-compaction-retention as given; "0" disables auto-compaction (auto-compaction.ts parses it). */
  autoCompactionRetention: string;
  /** Client URL TLS (--cert-file, --key-file, --trusted-ca-file, --client-cert-auth, --auto-tls). */
  clientTls: TlsFlags;
  /** Peer URL TLS (the --peer-* equivalents). */
  peerTls: TlsFlags;
  /** --cipher-suites: Go/IANA suite names for TLS 1.2 on client and peer links; empty = Node's defaults. */
  cipherSuites: string[];
  /** --auth-token: "simple" or "jwt,..." as etcd takes it (the options after the comma kept as given). */
  authToken: string;
  /** --auth-token-ttl in seconds: how long an unused simple token lives. */
  authTokenTtlSeconds: number;
  /** --bcrypt-cost: work factor for stored password hashes (4..31). */
  bcryptCost: number;
  /** --max-concurrent-streams: gRPC streams one client connection may have open at once. */
  maxConcurrentStreams: number;
  /** --grpc-keepalive-min-time: clients pinging more often than this are told to go away. */
  grpcKeepaliveMinTimeMs: number;
  /** --grpc-keepalive-interval: how often the server pings an idle connection. */
  grpcKeepaliveIntervalMs: number;
  /** --grpc-keepalive-timeout: how long a ping may go unanswered before the connection is closed. */
  grpcKeepaliveTimeoutMs: number;
}

/** One side's TLS flags, named as etcd names them (a peer flag adds the "peer-" prefix). */
export interface TlsFlags {
  certFile: string;
  keyFile: string;
  trustedCaFile: string;
  /** Require and verify a client certificate signed by trustedCaFile. */
  clientCertAuth: boolean;
  /** Generate a self-signed certificate when certFile/keyFile are not given. */
  autoTls: boolean;
  /** --peer-cert-allowed-cn (peer side only): the CN a connecting peer's certificate must carry. */
  allowedCn: string;
}

export const noTls = (): TlsFlags => ({ certFile: '', keyFile: '', trustedCaFile: '', clientCertAuth: false, autoTls: false, allowedCn: '' });

/** Whether a side serves TLS at all (its URLs must then be https://). */
export function tlsConfigured(tls: TlsFlags): boolean {
  return tls.autoTls || (tls.certFile !== '' && tls.keyFile !== '');
}

export const DEFAULT_QUOTA_BACKEND_BYTES = 2 * 1024 * 1024 * 1024;

export const defaultConfig = (): MemberConfig => ({
  name: 'default',
  dataDir: 'default.latchkey',
  listenClientUrls: ['http://127.0.0.1:2379'],
  advertiseClientUrls: ['http://127.0.0.1:2379'],
  listenMetricsUrls: [],
  listenPeerUrls: ['http://127.0.0.1:2380'],
  initialAdvertisePeerUrls: ['http://127.0.0.1:2380'],
  initialCluster: new Map([['default', ['http://127.0.0.1:2380']]]),
  initialClusterState: 'new',
  initialClusterToken: 'etcd-cluster',
  snapshotCount: 10_000,
  snapshotCatchupEntries: 5_000,
  heartbeatIntervalMs: 100,
  electionTimeoutMs: 1000,
  quotaBackendBytes: DEFAULT_QUOTA_BACKEND_BYTES,
  maxRequestBytes: 1_572_864,
  maxTxnOps: 128,
  logLevel: 'info',
  walSegmentBytes: 64 * 1024 * 1024,
  watchProgressNotifyIntervalMs: 10 * 60 * 1000,
  autoCompactionMode: 'periodic',
  autoCompactionRetention: '0',
  clientTls: noTls(),
  peerTls: noTls(),
  cipherSuites: [],
  authToken: 'simple',
  authTokenTtlSeconds: 300,
  bcryptCost: 10,
  maxConcurrentStreams: 4294967295,
  grpcKeepaliveMinTimeMs: 5_000,
  grpcKeepaliveIntervalMs: 2 * 3_600_000,
  grpcKeepaliveTimeoutMs: 20_000,
});

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Parses `a=http://x:2380,a=http://y:2380,b=http://z:2380` as etcd does. */
export function parseInitialCluster(text: string): Map<string, string[]> {
  const cluster = new Map<string, string[]>();
  for (const part of text.split(',').map((s) => s.trim()).filter((s) => s.length > 0)) {
    const eq = part.indexOf('=');
    if (eq <= 0) throw new ConfigError(`--initial-cluster: "${part}" is not name=URL`);
    const name = part.slice(0, eq);
    const url = parseUrl(part.slice(eq + 1), '--initial-cluster');
    cluster.set(name, [...(cluster.get(name) ?? []), url]);
  }
  return cluster;
}

export function parseUrlList(text: string, flag: string): string[] {
  const urls = text.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  if (urls.length === 0) throw new ConfigError(`${flag}: no URL given`);
  return urls.map((u) => parseUrl(u, flag));
}

function parseUrl(text: string, flag: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new ConfigError(`${flag}: "${text}" is not a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ConfigError(`${flag}: URL scheme must be http or https: ${text}`);
  }
  if (url.port === '') throw new ConfigError(`${flag}: URL needs a port: ${text}`);
  return `${url.protocol}//${url.hostname}:${url.port}`;
}

/** host:port for binding a listener from a URL such as http://127.0.0.1:2379. */
export function hostPort(url: string): { host: string; port: number } {
  const parsed = new URL(url);
  const host = parsed.hostname.replace(/^\[|\]$/g, '');
  return { host: host === 'localhost' ? '127.0.0.1' : host, port: Number(parsed.port) };
}

/** Lease TTLs below this are raised to it: ceil(1.5 × election timeout) seconds, as etcd does. */
export function minLeaseTtlSeconds(config: Pick<MemberConfig, 'electionTimeoutMs'>): bigint {
  return BigInt(Math.ceil((3 * config.electionTimeoutMs) / 2 / 1000));
}

/**
 * Checks the TLS flags before anything listens, with etcd's messages where etcd has one:
 * an https:// URL needs a certificate (or auto TLS) on its side, named files must be
 * readable and load (cert and key matching), and every --cipher-suites name must be known.
 * An http:// URL with TLS flags is allowed (etcd serves it in plain text and warns).
 */
export function validateTls(config: MemberConfig): void {
  const unknown = unknownCipherSuites(config.cipherSuites);
  if (unknown.length > 0) throw new ConfigError(`unexpected TLS cipher suite ${JSON.stringify(unknown[0])}`);
  if (config.cipherSuites.length > 0) {
    try {
      tls.createSecureContext(cipherOptions(config.cipherSuites));
    } catch (err) {
      // Known to Go but not offered by this OpenSSL (RC4, for one).
      throw new ConfigError(`--cipher-suites: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  for (const url of config.listenClientUrls) {
    if (url.startsWith('https:') && !tlsConfigured(config.clientTls)) {
      throw new ConfigError(`TLS key/cert (--cert-file, --key-file) must be provided for client url ${url} with HTTPS scheme`);
    }
  }
  for (const url of config.listenPeerUrls) {
    if (url.startsWith('https:') && !tlsConfigured(config.peerTls)) {
      throw new ConfigError(`cannot listen on TLS for ${new URL(url).host}: KeyFile and CertFile are not presented (set --peer-cert-file and --peer-key-file, or --peer-auto-tls)`);
    }
  }
  checkTlsFiles(config.clientTls, '', config.cipherSuites);
  checkTlsFiles(config.peerTls, 'peer-', config.cipherSuites);
}

function checkTlsFiles(flags: TlsFlags, prefix: string, cipherSuites: string[]): void {
  const read = (file: string, flag: string): Buffer => {
    try {
      return fs.readFileSync(file);
    } catch (err) {
      throw new ConfigError(`--${prefix}${flag}: open ${file}: ${err instanceof Error ? err.message : String(err)}`);
    }
  };
  if ((flags.certFile === '') !== (flags.keyFile === '')) {
    throw new ConfigError(`--${prefix}cert-file and --${prefix}key-file must be given together`);
  }
  const ca = flags.trustedCaFile === '' ? undefined : read(flags.trustedCaFile, 'trusted-ca-file');
  // Without files (none, or auto TLS generated later) only the CA could be checked.
  if (flags.certFile === '') return;
  const cert = read(flags.certFile, 'cert-file');
  const key = read(flags.keyFile, 'key-file');
  try {
    tls.createSecureContext({ cert, key, ...(ca === undefined ? {} : { ca }), ...cipherOptions(cipherSuites) });
  } catch (err) {
    throw new ConfigError(`--${prefix}cert-file/--${prefix}key-file: ${err instanceof Error ? err.message : String(err)}`);
  }
}
