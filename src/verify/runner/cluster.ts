import * as childProcess from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Logger } from '../../log';
import { projectRoot } from '../../paths';
import { PeerProxy, pidTableResolver } from '../faults/proxy';
import { EtcdRpc, type MemberStatus } from './rpc';

/**
 * A real cluster on loopback for `latchkey verify`: N member processes (latchkey or etcd,
 * same flags), each behind a PeerProxy on its peer port, so faults can kill, pause and
 * partition members. Every child is tracked by PID and SIGKILLed at exit.
 */

export type Target = 'latchkey' | 'etcd';

export interface MemberHandle {
  readonly name: string;
  readonly clientPort: number;
  /** The port the member itself listens on for peers. */
  readonly peerPort: number;
  /** The advertised peer port: the proxy in front of peerPort. */
  readonly proxyPort: number;
  readonly dataDir: string;
  child: childProcess.ChildProcess | undefined;
  paused: boolean;
  /** Wiped and re-added by a membership change: a restart must join with state 'existing'. */
  rejoining: boolean;
  /** Output tail for diagnostics. */
  tail: string;
  rpc: EtcdRpc;
  /** LATCHKEY_FAILPOINTS of the running process (undefined: a clean process). */
  failpoints: string | undefined;
  /** The failpoint the current process crashed itself at, from its dying words on stderr. */
  failpointHit: string | undefined;
}

/** What a failpoint crash prints just before its SIGKILL (src/failpoints.ts). */
const FAILPOINT_CRASH_LINE = /failpoint (\w+): crashing/;

/**
 * Snapshot every this many applied entries unless told otherwise: small, so that snapshots
 * (and the crash-during-snapshot fault) happen several times in a one-minute run.
 */
export const VERIFY_SNAPSHOT_COUNT = 200;

const TAIL_BYTES = 16 * 1024;
const live = new Set<childProcess.ChildProcess>();
/** Resolves once a child has exited and its output pipes are drained ('close'). */
const closed = new WeakMap<childProcess.ChildProcess, Promise<void>>();
/** Work dirs this process made and has not removed yet. */
const ownedWorkDirs = new Set<string>();
let exitHook = false;

function killLiveChildren(): void {
  for (const child of live) {
    try {
      process.kill(child.pid!, 'SIGKILL');
    } catch {
      // gone
    }
  }
  for (const dir of ownedWorkDirs) fs.rmSync(dir, { recursive: true, force: true });
  ownedWorkDirs.clear();
}

/** No member outlives the runner: at exit, and on a terminating signal (which skips 'exit'). */
function installExitHook(): void {
  if (exitHook) return;
  exitHook = true;
  process.on('exit', killLiveChildren);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      killLiveChildren();
      process.kill(process.pid, signal);
    });
  }
}

async function freePort(used: Set<number>): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = await new Promise<number>((resolve, reject) => {
      const server = net.createServer();
      server.once('error', reject);
      server.listen({ host: '127.0.0.1', port: 0 }, () => {
        const address = server.address() as net.AddressInfo;
        server.close(() => resolve(address.port));
      });
    });
    if (!used.has(port)) {
      used.add(port);
      return port;
    }
  }
  throw new Error('no free port');
}

export interface ClusterOptions {
  target: Target;
  members: number;
  log: Logger;
  /** Root for data dirs (a fresh temp dir by default; removed by destroy()). */
  workDir?: string;
  /** latchkey build root (LATCHKEY_DIST); default: the build this file was compiled into. */
  latchkeyDist?: string;
  etcdBinary?: string;
  /** --snapshot-count of every member (default VERIFY_SNAPSHOT_COUNT). */
  snapshotCount?: number;
  /** When set, each member's whole output is appended to `<logDir>/<name>.log`. */
  logDir?: string;
}

export class Cluster {
  readonly members: MemberHandle[] = [];
  readonly proxies = new Map<string, PeerProxy>();
  private readonly usedPorts = new Set<number>();
  private workDir = '';
  private ownsWorkDir = false;
  private readonly log: Logger;
  private readonly logFiles = new Map<string, fs.WriteStream>();

  constructor(readonly options: ClusterOptions) {
    if (!Number.isInteger(options.members) || options.members < 1 || options.members > 7) throw new Error(`bad member count ${options.members}`);
    this.log = options.log.child({ component: 'verify-cluster' });
  }

  /** name → pid of live members, for attributing proxy connections. */
  private pidTable(): Map<number, string> {
    const table = new Map<number, string>();
    for (const m of this.members) if (m.child?.pid !== undefined && m.child.exitCode === null && m.child.signalCode === null) table.set(m.child.pid, m.name);
    return table;
  }

  initialCluster(): string {
    return this.members.map((m) => `${m.name}=http://127.0.0.1:${m.proxyPort}`).join(',');
  }

  async start(): Promise<void> {
    installExitHook();
    this.ownsWorkDir = this.options.workDir === undefined;
    this.workDir = this.options.workDir ?? fs.mkdtempSync(path.join(os.tmpdir(), `latchkey-verify-${this.options.target}-`));
    if (this.ownsWorkDir) ownedWorkDirs.add(this.workDir);
    for (let i = 0; i < this.options.members; i++) {
      const name = `m${i}`;
      const member: MemberHandle = {
        name,
        clientPort: await freePort(this.usedPorts),
        peerPort: await freePort(this.usedPorts),
        proxyPort: await freePort(this.usedPorts),
        dataDir: path.join(this.workDir, name),
        child: undefined,
        paused: false,
        rejoining: false,
        tail: '',
        rpc: undefined as unknown as EtcdRpc,
        failpoints: undefined,
        failpointHit: undefined,
      };
      member.rpc = new EtcdRpc(`127.0.0.1:${member.clientPort}`);
      this.members.push(member);
    }
    const resolver = pidTableResolver(() => this.pidTable());
    for (const m of this.members) {
      const proxy = new PeerProxy(m.name, m.proxyPort, m.peerPort, resolver, this.log);
      await proxy.start();
      this.proxies.set(m.name, proxy);
    }
    for (const m of this.members) this.spawn(m, 'new');
    await this.waitHealthy(30_000);
  }

  member(name: string): MemberHandle {
    const m = this.members.find((x) => x.name === name);
    if (m === undefined) throw new Error(`no member ${name}`);
    return m;
  }

  isRunning(m: MemberHandle): boolean {
    return m.child !== undefined && m.child.exitCode === null && m.child.signalCode === null;
  }

  private logFile(m: MemberHandle): fs.WriteStream | undefined {
    const dir = this.options.logDir;
    if (dir === undefined) return undefined;
    let stream = this.logFiles.get(m.name);
    if (stream === undefined) {
      fs.mkdirSync(dir, { recursive: true });
      stream = fs.createWriteStream(path.join(dir, `${m.name}.log`), { flags: 'a' });
      this.logFiles.set(m.name, stream);
    }
    return stream;
  }

  /** `failpoints`: LATCHKEY_FAILPOINTS for this process only (latchkey members only). */
  private spawn(m: MemberHandle, state: 'new' | 'existing', failpoints?: string): void {
    const clientUrl = `http://127.0.0.1:${m.clientPort}`;
    const args = [
      '--name', m.name,
      '--data-dir', m.dataDir,
      '--listen-client-urls', clientUrl,
      '--advertise-client-urls', clientUrl,
      '--listen-peer-urls', `http://127.0.0.1:${m.peerPort}`,
      '--initial-advertise-peer-urls', `http://127.0.0.1:${m.proxyPort}`,
      '--initial-cluster', this.initialCluster(),
      '--initial-cluster-state', state,
      '--initial-cluster-token', 'latchkey-verify',
      '--snapshot-count', String(this.options.snapshotCount ?? VERIFY_SNAPSHOT_COUNT),
    ];
    let command: string;
    // Only the processes the nemesis chooses run with failpoints, never one by inheritance.
    const env: NodeJS.ProcessEnv = { ...process.env };
    delete env.LATCHKEY_FAILPOINTS;
    if (this.options.target === 'etcd') {
      if (failpoints !== undefined) throw new Error('failpoints exist only in latchkey members');
      command = this.options.etcdBinary ?? '/usr/bin/etcd';
    } else {
      command = process.execPath;
      env.LATCHKEY_DIST = this.options.latchkeyDist ?? process.env.LATCHKEY_DIST ?? path.resolve(__dirname, '..', '..', '..');
      if (failpoints !== undefined) env.LATCHKEY_FAILPOINTS = failpoints;
      args.unshift(path.join(projectRoot(), 'bin', 'latchkey'), 'serve');
    }
    const child = childProcess.spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    live.add(child);
    closed.set(child, new Promise<void>((resolve) => child.once('close', () => resolve())));
    m.child = child;
    m.paused = false;
    m.failpoints = failpoints;
    m.failpointHit = undefined;
    const logFile = this.logFile(m);
    logFile?.write(`=== ${new Date().toISOString()} verify: started ${m.name} pid ${child.pid} (${state})${failpoints !== undefined ? ` LATCHKEY_FAILPOINTS=${failpoints}` : ''}\n`);
    const append = (chunk: Buffer): void => {
      const text = chunk.toString('utf8');
      logFile?.write(text);
      if (failpoints !== undefined && m.child === child) {
        const hit = FAILPOINT_CRASH_LINE.exec(text);
        if (hit !== null) m.failpointHit = hit[1];
      }
      m.tail += text;
      if (m.tail.length > TAIL_BYTES) m.tail = m.tail.slice(-TAIL_BYTES);
    };
    child.stdout?.on('data', append);
    child.stderr?.on('data', append);
    child.once('exit', (code, signal) => {
      live.delete(child);
      logFile?.write(`=== ${new Date().toISOString()} verify: ${m.name} pid ${child.pid} exited (code ${code}, signal ${signal})\n`);
      this.log.debug({ member: m.name, code, signal }, 'member exited');
    });
    this.log.debug({ member: m.name, pid: child.pid }, 'member started');
  }

  /** kill -9; the data dir is kept. */
  async kill(m: MemberHandle): Promise<void> {
    const child = m.child;
    if (child === undefined || !this.isRunning(m)) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    process.kill(child.pid!, 'SIGKILL');
    await exited;
    m.paused = false;
  }

  /** Restarts a killed member on its data dir; `failpoints` arms LATCHKEY_FAILPOINTS in it. */
  restart(m: MemberHandle, failpoints?: string): void {
    if (this.isRunning(m)) return;
    this.spawn(m, m.rejoining ? 'existing' : 'new', failpoints);
  }

  /**
   * Until the member's process has exited and its output is read (true: `failpointHit` is
   * then final) or `timeoutMs` passes (false).
   */
  async waitExit(m: MemberHandle, timeoutMs: number): Promise<boolean> {
    const child = m.child;
    if (child === undefined) return true;
    let timer: NodeJS.Timeout | undefined;
    const exited = await Promise.race([
      closed.get(child)!.then(() => true),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs))),
    ]);
    clearTimeout(timer);
    return exited;
  }

  /** Starts a member freshly added with MemberAdd (empty data dir, joins the existing cluster). */
  startExisting(m: MemberHandle): void {
    if (this.isRunning(m)) throw new Error(`${m.name} is running`);
    this.spawn(m, 'existing');
  }

  forgetId(name: string): void {
    this.idCache.delete(name);
  }

  pause(m: MemberHandle): void {
    if (!this.isRunning(m) || m.paused) return;
    process.kill(m.child!.pid!, 'SIGSTOP');
    m.paused = true;
  }

  resume(m: MemberHandle): void {
    if (!this.isRunning(m) || !m.paused) return;
    process.kill(m.child!.pid!, 'SIGCONT');
    m.paused = false;
  }

  async status(m: MemberHandle): Promise<MemberStatus | undefined> {
    if (!this.isRunning(m) || m.paused) return undefined;
    try {
      return await m.rpc.status(1_000);
    } catch {
      return undefined;
    }
  }

  /** The current leader's member, by asking members until one answers with a leader. */
  async leader(): Promise<MemberHandle | undefined> {
    const ids = await this.memberIds();
    for (const m of this.members) {
      const s = await this.status(m);
      if (s !== undefined && s.leader !== 0n) {
        for (const [name, id] of ids) if (id === s.leader) return this.member(name);
      }
    }
    return undefined;
  }

  private idCache = new Map<string, bigint>();

  /** name → member id (learned from Status of each member; cached, ids never change). */
  async memberIds(): Promise<Map<string, bigint>> {
    for (const m of this.members) {
      if (this.idCache.has(m.name)) continue;
      const s = await this.status(m);
      if (s !== undefined) this.idCache.set(m.name, s.memberId);
    }
    return this.idCache;
  }

  /**
   * Quiescence: every member answers Status, all name the same leader, and their applied
   * indexes are equal (sampled twice, 200 ms apart, unchanged). Bounded by `timeoutMs`.
   */
  async waitQuiescent(timeoutMs: number): Promise<{ ok: boolean; detail: string }> {
    const deadline = Date.now() + timeoutMs;
    let detail = 'no answer';
    let previous = '';
    while (Date.now() < deadline) {
      const statuses = await Promise.all(this.members.map((m) => this.status(m)));
      if (statuses.every((s) => s !== undefined)) {
        const leaders = new Set(statuses.map((s) => s!.leader));
        const applied = new Set(statuses.map((s) => s!.raftAppliedIndex));
        const key = statuses.map((s) => `${s!.leader}/${s!.raftAppliedIndex}`).join(',');
        detail = `leaders=${[...leaders].join('|')} applied=${[...applied].join('|')}`;
        if (leaders.size === 1 && !leaders.has(0n) && applied.size === 1 && key === previous) return { ok: true, detail };
        previous = key;
      } else {
        detail = `members not answering: ${this.members.filter((_m, i) => statuses[i] === undefined).map((m) => m.name).join(',')}`;
        previous = '';
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    return { ok: false, detail };
  }

  /** Until every member serves a linearizable Range (a leader exists and is reachable). */
  async waitHealthy(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (const m of this.members) {
      for (;;) {
        if (!this.isRunning(m)) throw new Error(`member ${m.name} exited during start:\n${m.tail.split('\n').slice(-20).join('\n')}`);
        try {
          await m.rpc.range('health');
          break;
        } catch {
          if (Date.now() > deadline) throw new Error(`member ${m.name} not healthy within ${timeoutMs} ms:\n${m.tail.split('\n').slice(-20).join('\n')}`);
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      }
    }
  }

  endpoints(): string[] {
    return this.members.map((m) => `127.0.0.1:${m.clientPort}`);
  }

  /** SIGKILLs every member, stops the proxies, removes the work dir if it was made here. */
  async destroy(): Promise<void> {
    for (const m of this.members) {
      if (m.paused) this.resume(m);
      await this.kill(m);
      m.rpc.close();
    }
    for (const proxy of this.proxies.values()) await proxy.stop();
    for (const stream of this.logFiles.values()) await new Promise<void>((resolve) => stream.end(() => resolve()));
    this.logFiles.clear();
    if (this.ownsWorkDir && this.workDir !== '') {
      fs.rmSync(this.workDir, { recursive: true, force: true });
      ownedWorkDirs.delete(this.workDir);
    }
  }
}

/**
 * Membership change under load: remove `m` from the cluster through another member, wipe its
 * data, add it back as a new member (same name and peer URL, new id) and start it with
 * --initial-cluster-state existing. Returns a description of what happened.
 */
export async function replaceMember(cluster: Cluster, m: MemberHandle): Promise<string> {
  // A member that answers now (one restarted a moment ago may not be listening yet).
  let via: MemberHandle | undefined;
  for (const x of cluster.members) {
    if (x !== m && (await cluster.status(x)) !== undefined) {
      via = x;
      break;
    }
  }
  if (via === undefined) throw new Error('no answering member to drive the membership change');
  const list = await via.rpc.memberList();
  const entry = list.find((x) => x.name === m.name || x.peerUrls.includes(`http://127.0.0.1:${m.proxyPort}`));
  if (entry === undefined) throw new Error(`${m.name} not in the member list`);
  // etcd refuses while the cluster looks unhealthy (a member recently unreachable): retry, bounded.
  for (let attempt = 0; ; attempt++) {
    try {
      await via.rpc.memberRemove(entry.id);
      break;
    } catch (error) {
      if (attempt >= 10) throw error;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
  await cluster.kill(m);
  fs.rmSync(m.dataDir, { recursive: true, force: true });
  m.rejoining = true;
  cluster.forgetId(m.name);
  // The cluster may refuse while it settles after the removal: retry, bounded.
  let newId: bigint | undefined;
  let lastError: unknown;
  for (let attempt = 0; attempt < 20 && newId === undefined; attempt++) {
    try {
      newId = await via.rpc.memberAdd(`http://127.0.0.1:${m.proxyPort}`);
    } catch (error) {
      lastError = error;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
  if (newId === undefined) throw new Error(`re-adding ${m.name} failed: ${lastError instanceof Error ? lastError.message : String(lastError)}`);
  cluster.startExisting(m);
  return `removed ${m.name} (${entry.id.toString(16)}), re-added as ${newId.toString(16)}`;
}
