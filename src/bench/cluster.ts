import * as childProcess from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { projectRoot } from '../paths';
import { Channel } from './rpc';

/**
 * A loopback cluster for bench:compare: real etcd (/usr/bin/etcd) or latchkey
 * (`node bin/latchkey serve`), both given the same etcd flags. Members are spawned and
 * stopped by PID; data lives in one temp dir removed at stop. Any member still alive when
 * this process exits is SIGKILLed.
 */

export type ClusterKind = 'etcd' | 'latchkey';

export interface ClusterSettings {
  size: number;
  heartbeatIntervalMs: number;
  electionTimeoutMs: number;
  snapshotCount: number;
  /** Build output folder holding src/cli/main.js (LATCHKEY_DIST); latchkey only. */
  latchkeyDist: string;
  etcdBinary: string;
  readyTimeoutMs: number;
}

export interface ClusterMember {
  readonly name: string;
  readonly endpoint: string;
  readonly child: childProcess.ChildProcess;
  readonly pid: number;
  exited: boolean;
  /** Last few KiB of the member's output, for error messages. */
  outputTail: string;
}

const OUTPUT_TAIL_BYTES = 16 * 1024;
const READY_POLL_MS = 100;
/** Finer polling when a restart is being timed. */
const RESTART_POLL_MS = 20;
const live = new Set<childProcess.ChildProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const child of live) if (child.pid !== undefined) killQuietly(child.pid);
  });
}

function killQuietly(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

async function freePorts(count: number): Promise<number[]> {
  const servers: net.Server[] = [];
  try {
    const ports: number[] = [];
    for (let i = 0; i < count; i++) {
      const server = net.createServer();
      servers.push(server);
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen({ host: '127.0.0.1', port: 0, exclusive: true }, resolve);
      });
      ports.push((server.address() as net.AddressInfo).port);
    }
    return ports;
  } finally {
    await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  }
}

/** VmRSS of a process in bytes (Linux /proc), or undefined when it cannot be read. */
export function residentBytes(pid: number): number | undefined {
  try {
    const match = /^VmRSS:\s+(\d+)\s+kB$/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match === null ? undefined : Number(match[1]) * 1024;
  } catch {
    return undefined;
  }
}

export class BenchCluster {
  private respawn: Array<() => ClusterMember> = [];
  private readyTimeoutMs = 30_000;
  /** Names of members this cluster killed on purpose (failover, restart runs). */
  private readonly killed = new Set<string>();

  private constructor(
    readonly kind: ClusterKind,
    readonly members: ClusterMember[],
    private readonly dataRoot: string,
  ) {}

  get endpoints(): string[] {
    return this.members.map((member) => member.endpoint);
  }

  static async start(kind: ClusterKind, settings: ClusterSettings): Promise<BenchCluster> {
    installExitHook();
    const dataRoot = fs.mkdtempSync(path.join(os.tmpdir(), `latchkey-bench-${kind}-`));
    const ports = await freePorts(2 * settings.size);
    const names = Array.from({ length: settings.size }, (_unused, i) => `${kind}${i}`);
    const initialCluster = names.map((name, i) => `${name}=http://127.0.0.1:${ports[2 * i + 1]}`).join(',');
    const spawns = names.map((name, i) => () => spawnMember(kind, settings, name, ports[2 * i]!, ports[2 * i + 1]!, initialCluster, dataRoot));
    const members = spawns.map((spawn) => spawn());
    const cluster = new BenchCluster(kind, members, dataRoot);
    cluster.respawn = spawns;
    cluster.readyTimeoutMs = settings.readyTimeoutMs;
    try {
      await Promise.all(members.map((member) => waitReady(member, settings.readyTimeoutMs)));
    } catch (error) {
      await cluster.stop();
      throw error;
    }
    return cluster;
  }

  /**
   * Members that exited although nobody killed them, with the end of their output: what a
   * failed workload reports, so a crash is never just "connection refused".
   */
  unexpectedExits(): Array<{ name: string; outputTail: string }> {
    return this.members.filter((member) => member.exited && !this.killed.has(member.name)).map(({ name, outputTail }) => ({ name, outputTail }));
  }

  /** Lines of every member's kept output that contain `text` (e.g. a warning worth reporting). */
  outputLines(text: string): Array<{ name: string; line: string }> {
    return this.members.flatMap((member) =>
      member.outputTail
        .split('\n')
        .filter((line) => line.includes(text))
        .map((line) => ({ name: member.name, line })),
    );
  }

  /** SIGKILL member `index` and wait for its exit. */
  async kill(index: number): Promise<void> {
    const member = this.members[index];
    if (member === undefined) throw new Error(`no member #${index}`);
    this.killed.add(member.name);
    if (member.exited) return;
    const exited = new Promise((resolve) => member.child.once('exit', resolve));
    process.kill(member.pid, 'SIGKILL');
    await exited;
  }

  /**
   * Starts member `index` again on its data directory (after kill), and resolves with the
   * milliseconds until it answers a serializable Range: its restart time (WAL replay, or
   * snapshot load plus the WAL after it).
   */
  async restart(index: number): Promise<number> {
    const spawn = this.respawn[index];
    if (spawn === undefined) throw new Error(`no member #${index}`);
    if (!this.members[index]!.exited) throw new Error(`member #${index} is still running`);
    const started = performance.now();
    const member = spawn();
    this.members[index] = member;
    this.killed.delete(member.name);
    await waitReady(member, this.readyTimeoutMs, true);
    return performance.now() - started;
  }

  /** VmRSS of every live member, in bytes. */
  residentBytes(): number[] {
    return this.members.filter((m) => !m.exited).map((m) => residentBytes(m.pid) ?? 0);
  }

  /** SIGKILLs every member (a graceful etcd stop waits seconds for leadership transfer) and removes the data. */
  async stop(): Promise<void> {
    await Promise.all(this.members.map((_member, i) => this.kill(i)));
    fs.rmSync(this.dataRoot, { recursive: true, force: true });
  }
}

function spawnMember(
  kind: ClusterKind,
  settings: ClusterSettings,
  name: string,
  clientPort: number,
  peerPort: number,
  initialCluster: string,
  dataRoot: string,
): ClusterMember {
  const clientUrl = `http://127.0.0.1:${clientPort}`;
  const peerUrl = `http://127.0.0.1:${peerPort}`;
  const flags = [
    '--name', name,
    '--data-dir', path.join(dataRoot, name),
    '--listen-client-urls', clientUrl,
    '--advertise-client-urls', clientUrl,
    '--listen-peer-urls', peerUrl,
    '--initial-advertise-peer-urls', peerUrl,
    '--initial-cluster', initialCluster,
    '--initial-cluster-state', 'new',
    '--heartbeat-interval', String(settings.heartbeatIntervalMs),
    '--election-timeout', String(settings.electionTimeoutMs),
    '--snapshot-count', String(settings.snapshotCount),
    '--log-level', 'warn',
  ];
  const [command, args, env] =
    kind === 'etcd'
      ? [settings.etcdBinary, [...flags, '--logger', 'zap'], {}]
      : [process.execPath, [path.join(projectRoot(), 'bin', 'latchkey'), 'serve', ...flags], { LATCHKEY_DIST: settings.latchkeyDist }];
  const child = childProcess.spawn(command, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  if (child.pid === undefined) throw new Error(`could not spawn ${command}`);
  live.add(child);
  const member: ClusterMember = { name, endpoint: `127.0.0.1:${clientPort}`, child, pid: child.pid, exited: false, outputTail: '' };
  const append = (chunk: Buffer): void => {
    member.outputTail = (member.outputTail + chunk.toString('utf8')).slice(-OUTPUT_TAIL_BYTES);
  };
  child.stdout?.on('data', append);
  child.stderr?.on('data', append);
  child.once('exit', () => {
    member.exited = true;
    live.delete(child);
  });
  return member;
}

/** Polls a linearizable Range until it answers (a leader exists and this member reaches it). */
async function waitReady(member: ClusterMember, timeoutMs: number, serializable = false): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError = 'no answer yet';
  while (Date.now() < deadline) {
    if (member.exited) throw new Error(`${member.name} exited before it was ready:\n${member.outputTail.slice(-3000)}`);
    // A fresh channel per attempt: one whose connection was refused waits out grpc-js'
    // reconnect backoff (1 s, then 1.6 s, ...) and would add it to the restart time measured.
    const channel = new Channel(member.endpoint);
    try {
      await channel.unary('KV', 'Range', { key: Buffer.from('health'), serializable }, 1_000);
      return;
    } catch (error) {
      lastError = error instanceof Error ? error.message : String(error);
    } finally {
      channel.close();
    }
    await new Promise((resolve) => setTimeout(resolve, serializable ? RESTART_POLL_MS : READY_POLL_MS));
  }
  throw new Error(`${member.name} not ready within ${timeoutMs} ms (${lastError}):\n${member.outputTail.slice(-3000)}`);
}
