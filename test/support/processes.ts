import * as childProcess from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { projectRoot } from '../../src/paths';
import { EtcdClient, RpcError } from './etcd-client';
import { freePorts } from './ports';
import { findBinary } from './skip';

/**
 * Real server processes for process-level tests: etcd 3.4 (the reference) and latchkey,
 * started with the same etcd-style flags. Every process started here is tracked by PID;
 * `stopAll()` (call it from an `after` hook) stops them, and anything still alive when the
 * test process exits is killed with SIGKILL.
 */

export type ServerKind = 'etcd' | 'latchkey';

export interface StartOptions {
  /** Member name (default: kind plus a counter). */
  name?: string;
  /** Data directory. When given, the caller owns it and it is kept at stop. */
  dataDir?: string;
  /** Fixed client / peer ports (e.g. to restart a member on its old address). */
  clientPort?: number;
  peerPort?: number;
  /** `--initial-cluster` value; default: this member alone. */
  initialCluster?: string;
  /** `--initial-cluster-state` (new | existing); omitted by default. */
  initialClusterState?: 'new' | 'existing';
  /** More command-line arguments, appended after the standard ones. */
  extraArgs?: string[];
  /** Extra environment variables. */
  env?: Record<string, string>;
  /**
   * When the process counts as ready: 'range' = a linearizable Range answers (needs a
   * leader; the default for a single member), 'status' = Maintenance.Status answers (the
   * default when initialCluster is given), 'none' = do not wait.
   */
  readiness?: 'range' | 'status' | 'none';
  /** Bound on the readiness wait (default 30 s). */
  readyTimeoutMs?: number;
  /** URL schemes of the client / peer URLs (default http; https needs TLS flags in extraArgs and readiness 'none'). */
  clientScheme?: 'http' | 'https';
  peerScheme?: 'http' | 'https';
}

export interface ExitResult {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface ServerProcess {
  readonly kind: ServerKind;
  readonly name: string;
  readonly pid: number;
  /** http://127.0.0.1:<clientPort> */
  readonly clientUrl: string;
  /** 127.0.0.1:<clientPort>, what etcdctl --endpoints and EtcdClient take. */
  readonly endpoint: string;
  readonly clientPort: number;
  readonly peerUrl: string;
  readonly peerPort: number;
  readonly dataDir: string;
  /** Last ~64 KiB of stdout+stderr, for error messages. */
  output(): string;
  /**
   * Signal the process (default SIGTERM), wait for exit (SIGKILL after 10 s), then remove the
   * data dir if this module created it (unless another live process was started on it).
   */
  stop(signal?: NodeJS.Signals): Promise<ExitResult>;
  /** SIGKILL and wait for the exit. The data dir is kept (crash tests restart on it with dataDir). */
  kill9(): Promise<ExitResult>;
  /** Resolves when the process has exited (at once if it already has). */
  waitExit(): Promise<ExitResult>;
  readonly exited: boolean;
}

const OUTPUT_TAIL_BYTES = 64 * 1024;
const STOP_GRACE_MS = 10_000;
/** How long a SIGKILLed process may take to be reaped before stop() gives up on it. */
const KILL_WAIT_MS = 10_000;

const READY_POLL_MS = 100;

/** The kernel's view of a process that will not die: its state and where it waits. */
function kernelState(pid: number): string {
  const read = (file: string): string => {
    try {
      return fs.readFileSync(`/proc/${pid}/${file}`, 'utf8').trim();
    } catch (err) {
      return `(${file}: ${err instanceof Error ? err.message : String(err)})`;
    }
  };
  const state = read('status').split('\n').find((line) => line.startsWith('State:')) ?? read('status');
  return `${state}; wchan ${read('wchan')}; stack ${read('stack').split('\n').slice(0, 8).join(' | ')}`;
}

/** Tracked children of this test process, by PID. */
const running = new Map<number, TrackedProcess>();
/** Temp directories made here and not yet removed (removed by stopAll and at exit). */
const tempDirs = new Set<string>();
let exitHookInstalled = false;
let nameCounter = 0;

/** SIGKILLs every tracked child and removes owned data dirs; synchronous (exit paths). */
function killAllNow(): void {
  for (const tracked of running.values()) {
    try {
      process.kill(tracked.child.pid!, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  for (const dir of tempDirs) fs.rmSync(dir, { recursive: true, force: true });
  tempDirs.clear();
}

/**
 * A fresh directory under os.tmpdir(), removed by `stopAll()` (or at exit). Use it as the
 * dataDir of a member that a test restarts: a dataDir passed in is never removed by stop().
 */
export function makeTempDir(label: string): string {
  installExitHook();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `latchkey-test-${label.replace(/[^a-zA-Z0-9_-]/g, '_')}-`));
  tempDirs.add(dir);
  return dir;
}

function removeTempDir(dir: string): void {
  // Another live process may have been restarted on this directory: leave it for stopAll.
  for (const other of running.values()) if (other.dataDir === dir) return;
  fs.rmSync(dir, { recursive: true, force: true });
  tempDirs.delete(dir);
}

const FATAL_SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', killAllNow);
  // A test process killed by a signal skips 'exit' handlers; do not leave servers behind.
  for (const signal of FATAL_SIGNALS) {
    process.once(signal, () => {
      killAllNow();
      process.kill(process.pid, signal);
    });
  }
}

/** A spawned child with its output tail and exit promise; also used for etcdctl watchers. */
export class TrackedProcess {
  private tail = '';
  readonly exit: Promise<ExitResult>;
  private exitResult: ExitResult | undefined;

  constructor(
    readonly child: childProcess.ChildProcess,
    readonly dataDir = '',
    readonly ownsDataDir = false,
  ) {
    if (child.pid === undefined) throw new Error('spawn failed: no pid');
    installExitHook();
    running.set(child.pid, this);
    const append = (chunk: Buffer): void => {
      this.tail += chunk.toString('utf8');
      if (this.tail.length > OUTPUT_TAIL_BYTES) this.tail = this.tail.slice(-OUTPUT_TAIL_BYTES);
    };
    child.stdout?.on('data', append);
    child.stderr?.on('data', append);
    const pid = child.pid;
    this.exit = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.exitResult = { code, signal };
        running.delete(pid);
        resolve(this.exitResult);
      });
    });
  }

  get pid(): number {
    return this.child.pid!;
  }
  get exited(): boolean {
    return this.exitResult !== undefined;
  }
  output(): string {
    return this.tail;
  }

  /** Sends `signal` to this PID and waits; escalates to SIGKILL after the grace period. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<ExitResult> {
    if (!this.exited) {
      try {
        process.kill(this.pid, signal);
      } catch {
        // exited between the check and the kill
      }
      const timer = setTimeout(() => {
        try {
          process.kill(this.pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }, STOP_GRACE_MS);
      let giveUp: NodeJS.Timeout | undefined;
      const gone = await Promise.race([
        this.exit,
        new Promise<undefined>((resolve) => {
          giveUp = setTimeout(() => resolve(undefined), STOP_GRACE_MS + KILL_WAIT_MS);
        }),
      ]);
      clearTimeout(timer);
      clearTimeout(giveUp);
      // A process SIGKILL cannot end (stuck in the kernel) would hold the test forever.
      if (gone === undefined) throw new Error(`pid ${this.pid} did not exit ${KILL_WAIT_MS} ms after SIGKILL: ${kernelState(this.pid)}`);
    }
    if (this.ownsDataDir) removeTempDir(this.dataDir);
    return this.exit;
  }
}

/** Stops every process started through this module (by PID) and removes temp dirs. For `after(stopAll)`. */
export async function stopAll(): Promise<void> {
  await Promise.all([...running.values()].map((tracked) => tracked.stop('SIGTERM')));
  for (const dir of [...tempDirs]) removeTempDir(dir);
}

/**
 * Spawns a tracked child with captured output (not a server: no readiness wait). Its
 * environment is `baseEnv` (default: this process's) plus `env`.
 */
export function spawnTracked(
  command: string,
  args: string[],
  options: { env?: Record<string, string>; baseEnv?: NodeJS.ProcessEnv; cwd?: string } = {},
): TrackedProcess {
  const child = childProcess.spawn(command, args, {
    cwd: options.cwd,
    env: { ...(options.baseEnv ?? process.env), ...options.env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  return new TrackedProcess(child);
}

/** The build output root this file was compiled into (…/.build/<name> or dist). */
export function buildOutputRoot(): string {
  // This file is <root>/test/support/processes.js.
  return path.resolve(__dirname, '..', '..');
}

function latchkeyCommand(): { command: string; args: string[]; env: Record<string, string> } {
  const bin = path.join(projectRoot(), 'bin', 'latchkey');
  const dist = process.env.LATCHKEY_DIST ?? buildOutputRoot();
  return { command: process.execPath, args: [bin], env: { LATCHKEY_DIST: dist } };
}

async function startServer(kind: ServerKind, options: StartOptions): Promise<ServerProcess> {
  const { server, tracked } = await launch(kind, options);
  const readiness = options.readiness ?? (options.initialCluster === undefined ? 'range' : 'status');
  if (readiness !== 'none') {
    try {
      await waitReady(server, tracked, readiness, options.readyTimeoutMs ?? 30_000);
    } catch (error) {
      await tracked.stop('SIGKILL');
      throw error;
    }
  }
  return server;
}

/** Spawns the member process (no readiness wait). */
async function launch(kind: ServerKind, options: StartOptions): Promise<{ server: ServerProcess; tracked: TrackedProcess }> {
  const name = options.name ?? `${kind}${++nameCounter}`;
  const [clientPort, peerPort] = await resolvePorts(options);
  const ownsDataDir = options.dataDir === undefined;
  const dataDir = options.dataDir ?? makeTempDir(`${kind}-${name}`);
  const clientUrl = `${options.clientScheme ?? 'http'}://127.0.0.1:${clientPort}`;
  const peerUrl = `${options.peerScheme ?? 'http'}://127.0.0.1:${peerPort}`;
  const memberArgs = [
    '--name', name,
    '--data-dir', dataDir,
    '--listen-client-urls', clientUrl,
    '--advertise-client-urls', clientUrl,
    '--listen-peer-urls', peerUrl,
    '--initial-advertise-peer-urls', peerUrl,
    '--initial-cluster', options.initialCluster ?? `${name}=${peerUrl}`,
  ];
  if (options.initialClusterState !== undefined) {
    memberArgs.push('--initial-cluster-state', options.initialClusterState);
  }
  memberArgs.push(...(options.extraArgs ?? []));

  let command: string;
  let args: string[];
  let env: Record<string, string>;
  if (kind === 'etcd') {
    const etcd = findBinary('etcd');
    if (etcd === undefined) throw new Error('etcd binary not found (Debian package etcd-server)');
    command = etcd;
    args = memberArgs;
    env = {};
  } else {
    const latchkey = latchkeyCommand();
    command = latchkey.command;
    args = [...latchkey.args, 'serve', ...memberArgs];
    env = latchkey.env;
  }
  const child = childProcess.spawn(command, args, {
    env: { ...process.env, ...env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  await new Promise<void>((resolve, reject) => {
    child.once('spawn', resolve);
    child.once('error', reject);
  });
  const tracked = new TrackedProcess(child, dataDir, ownsDataDir);
  const server: ServerProcess = {
    kind,
    name,
    pid: tracked.pid,
    clientUrl,
    endpoint: `127.0.0.1:${clientPort}`,
    clientPort,
    peerUrl,
    peerPort,
    dataDir,
    output: () => tracked.output(),
    stop: (signal) => tracked.stop(signal),
    kill9: async () => {
      if (!tracked.exited) process.kill(tracked.pid, 'SIGKILL');
      return tracked.exit;
    },
    waitExit: () => tracked.exit,
    get exited() {
      return tracked.exited;
    },
  };
  return { server, tracked };
}

async function resolvePorts(options: StartOptions): Promise<[number, number]> {
  const [a, b] = await freePorts(2);
  return [options.clientPort ?? a!, options.peerPort ?? b!];
}

function describeFailure(server: ServerProcess, what: string): Error {
  const tail = server.output().split('\n').slice(-40).join('\n');
  return new Error(
    `${server.kind} ${server.name} (pid ${server.pid}, ${server.endpoint}) ${what}\n--- last output ---\n${tail}`,
  );
}

/** Polls the readiness call until it answers, the process exits, or the bound passes. */
async function waitReady(
  server: ServerProcess,
  tracked: TrackedProcess,
  readiness: 'range' | 'status',
  timeoutMs: number,
): Promise<void> {
  const client = new EtcdClient(server.endpoint);
  const deadline = Date.now() + timeoutMs;
  let lastError = 'no answer yet';
  try {
    while (Date.now() < deadline) {
      if (tracked.exited) {
        const result = await tracked.exit;
        throw describeFailure(server, `exited before it was ready (code ${result.code}, signal ${result.signal})`);
      }
      try {
        if (readiness === 'range') await client.range({ key: Buffer.from('health') }, { deadlineMs: 1_000 });
        else await client.status({ deadlineMs: 1_000 });
        return;
      } catch (error) {
        lastError = error instanceof RpcError ? `${error.code} ${error.details}` : String(error);
      }
      await new Promise((resolve) => setTimeout(resolve, READY_POLL_MS));
    }
    throw describeFailure(server, `not ready within ${timeoutMs} ms (last error: ${lastError})`);
  } finally {
    client.close();
  }
}

/** Starts a real etcd 3.4 member (single-member cluster by default) and waits until ready. */
export function startEtcd(options: StartOptions = {}): Promise<ServerProcess> {
  return startServer('etcd', options);
}

/** Starts `node bin/latchkey serve` with etcd's flags and waits until it is ready. */
export function startLatchkey(options: StartOptions = {}): Promise<ServerProcess> {
  return startServer('latchkey', options);
}

/** Starts either kind. */
export function startServerOfKind(kind: ServerKind, options: StartOptions = {}): Promise<ServerProcess> {
  return startServer(kind, options);
}

export interface ClusterOptions {
  /** Number of members (1–7). */
  size: number;
  /** Name prefix; members are <prefix>0, <prefix>1, … */
  namePrefix?: string;
  extraArgs?: string[];
  env?: Record<string, string>;
  readyTimeoutMs?: number;
  /** URL schemes (default http). */
  clientScheme?: 'http' | 'https';
  peerScheme?: 'http' | 'https';
  /** 'none': return once spawned (e.g. TLS clusters, which the plain readiness client cannot reach). */
  readiness?: 'range' | 'none';
}

/**
 * Starts a fresh multi-member cluster of one kind on loopback (all members at once, as
 * `--initial-cluster-state new` requires) and waits until every member serves a
 * linearizable Range, i.e. a leader exists and every member can reach it. Note: etcd members
 * stopped all at once with SIGTERM wait ~7 s for a leadership transfer; stop them with
 * 'SIGKILL' when a graceful shutdown is not what the test is about.
 */
export async function startCluster(kind: ServerKind, options: ClusterOptions): Promise<ServerProcess[]> {
  const { size } = options;
  if (!Number.isInteger(size) || size < 1 || size > 7) throw new Error(`bad cluster size ${size}`);
  const prefix = options.namePrefix ?? `${kind}-m`;
  const ports = await freePorts(2 * size);
  const names = Array.from({ length: size }, (_unused, i) => `${prefix}${i}`);
  const initialCluster = names.map((name, i) => `${name}=${options.peerScheme ?? 'http'}://127.0.0.1:${ports[2 * i + 1]}`).join(',');
  const launched = await Promise.allSettled(
    names.map((name, i) =>
      launch(kind, {
        name,
        clientPort: ports[2 * i],
        peerPort: ports[2 * i + 1],
        initialCluster,
        initialClusterState: 'new',
        extraArgs: options.extraArgs,
        env: options.env,
        ...(options.clientScheme === undefined ? {} : { clientScheme: options.clientScheme }),
        ...(options.peerScheme === undefined ? {} : { peerScheme: options.peerScheme }),
      }),
    ),
  );
  const members = launched
    .filter((r): r is PromiseFulfilledResult<{ server: ServerProcess; tracked: TrackedProcess }> => r.status === 'fulfilled')
    .map((r) => r.value);
  const failure = launched.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  try {
    if (failure !== undefined) throw failure.reason;
    if (options.readiness === 'none') return members.map(({ server }) => server);
    const timeoutMs = options.readyTimeoutMs ?? 20_000;
    await Promise.all(members.map(({ server, tracked }) => waitReady(server, tracked, 'range', timeoutMs)));
  } catch (error) {
    await Promise.all(members.map(({ tracked }) => tracked.stop('SIGKILL')));
    throw error;
  }
  return members.map(({ server }) => server);
}
