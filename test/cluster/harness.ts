import { EtcdClient, RpcError, Wire } from '../support/etcd-client';
import { ServerKind, ServerProcess, startServerOfKind } from '../support/processes';

/**
 * Shared pieces of the process-level cluster tests. Every test runs against the kind named
 * by LATCHKEY_CLUSTER_TARGET (etcd | latchkey, default latchkey); running the same code with
 * `etcd` proves the assertions against the reference.
 */

export function clusterTarget(): ServerKind {
  const raw = process.env.LATCHKEY_CLUSTER_TARGET ?? 'latchkey';
  if (raw !== 'etcd' && raw !== 'latchkey') throw new Error(`LATCHKEY_CLUSTER_TARGET: unknown server kind ${raw}`);
  return raw;
}

/** Raft timing given identically to both kinds. */
export const HEARTBEAT_MS = 100;
export const ELECTION_TIMEOUT_MS = 1_000;
export const TIMING_ARGS = ['--heartbeat-interval', String(HEARTBEAT_MS), '--election-timeout', String(ELECTION_TIMEOUT_MS)];

/** etcd 3.4 has no --snapshot-catchup-entries flag: it always keeps this many entries. */
export const ETCD_FIXED_CATCHUP_ENTRIES = 5_000;

export const POLL_INTERVAL_MS = 20;

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export function describeError(error: unknown): string {
  if (error instanceof RpcError) return `gRPC ${error.code} ${error.details}`;
  return error instanceof Error ? error.message : String(error);
}

/**
 * Polls `probe` every POLL_INTERVAL_MS until it returns a value other than undefined, or
 * throws after `timeoutMs` naming `what` and the last probe error.
 */
export async function pollUntil<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer yet';
  for (let attempt = 0; ; attempt++) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
      last = 'condition not met';
    } catch (error) {
      last = describeError(error);
    }
    if (Date.now() >= deadline) throw new Error(`${what}: not within ${timeoutMs} ms (${attempt + 1} tries; last: ${last})`);
    await sleep(POLL_INTERVAL_MS);
  }
}

/** One gRPC client per member endpoint, closed together. */
export class Clients {
  private readonly byEndpoint = new Map<string, EtcdClient>();

  of(member: ServerProcess): EtcdClient {
    let client = this.byEndpoint.get(member.endpoint);
    if (client === undefined) {
      client = new EtcdClient(member.endpoint);
      this.byEndpoint.set(member.endpoint, client);
    }
    return client;
  }

  /** Drops the channel of a member (e.g. after it was restarted) so the next call reconnects. */
  forget(member: ServerProcess): void {
    this.byEndpoint.get(member.endpoint)?.close();
    this.byEndpoint.delete(member.endpoint);
  }

  closeAll(): void {
    for (const client of this.byEndpoint.values()) client.close();
    this.byEndpoint.clear();
  }
}

export interface MemberStatus {
  memberId: bigint;
  leaderId: bigint;
  raftTerm: bigint;
  raftIndex: bigint;
  raftAppliedIndex: bigint;
  isLearner: boolean;
}

function big(value: unknown): bigint {
  return value === undefined || value === null || value === '' ? 0n : BigInt(value as string);
}

export async function memberStatus(client: EtcdClient, deadlineMs = 1_000): Promise<MemberStatus> {
  const status = await client.status({ deadlineMs });
  return {
    memberId: big(status.header?.member_id),
    leaderId: big(status.leader),
    raftTerm: big(status.raftTerm),
    raftIndex: big(status.raftIndex),
    raftAppliedIndex: big(status.raftAppliedIndex),
    isLearner: status.isLearner === true,
  };
}

export interface LeaderView {
  leader: ServerProcess;
  leaderId: bigint;
  followers: ServerProcess[];
  /** Member id of every member passed in. */
  ids: Map<ServerProcess, bigint>;
  term: bigint;
}

/**
 * Waits until every member in `members` answers Status and all of them name the same leader,
 * which is one of them (so the cluster is whole and stable), within `timeoutMs`.
 */
export function stableLeader(clients: Clients, members: ServerProcess[], timeoutMs = 10_000): Promise<LeaderView> {
  return pollUntil(`a leader agreed on by ${members.map((m) => m.name).join(', ')}`, timeoutMs, async () => {
    const statuses = await Promise.all(members.map((m) => memberStatus(clients.of(m))));
    const leaderId = statuses[0]!.leaderId;
    if (leaderId === 0n || statuses.some((s) => s.leaderId !== leaderId || s.raftTerm !== statuses[0]!.raftTerm)) return undefined;
    const index = statuses.findIndex((s) => s.memberId === leaderId);
    if (index < 0) return undefined;
    const ids = new Map(members.map((m, i) => [m, statuses[i]!.memberId]));
    return {
      leader: members[index]!,
      leaderId,
      followers: members.filter((_m, i) => i !== index),
      ids,
      term: statuses[0]!.raftTerm,
    };
  });
}

/** The `--initial-cluster` value naming these members. */
export function initialClusterOf(members: { name: string; peerUrl: string }[]): string {
  return members.map((m) => `${m.name}=${m.peerUrl}`).join(',');
}

/** Restarts a stopped member on its own data dir and ports (readiness: Status answers). */
export function restartMember(kind: ServerKind, old: ServerProcess, initialCluster: string, extraArgs: string[]): Promise<ServerProcess> {
  if (!old.exited) throw new Error(`restartMember: ${old.name} (pid ${old.pid}) is still running`);
  return startServerOfKind(kind, {
    name: old.name,
    dataDir: old.dataDir,
    clientPort: old.clientPort,
    peerPort: old.peerPort,
    initialCluster,
    initialClusterState: 'new',
    extraArgs,
    readiness: 'status',
  });
}

/** SIGKILLs (by PID) every member still running; for after hooks, where a graceful stop is not the point. */
export async function killMembers(members: Iterable<ServerProcess>): Promise<void> {
  await Promise.all([...members].map((m) => m.kill9()));
}

/** Sends `signal` to a member's PID unless it has exited. */
export function signalMember(member: ServerProcess, signal: NodeJS.Signals): void {
  if (member.exited) return;
  process.kill(member.pid, signal);
}

/** Waits for a process exit, failing after `timeoutMs`. */
export async function exitWithin(member: ServerProcess, timeoutMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(
      () => reject(new Error(`${member.kind} ${member.name} (pid ${member.pid}) did not exit within ${timeoutMs} ms\n${tail(member)}`)),
      timeoutMs,
    );
  });
  try {
    await Promise.race([member.waitExit(), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** The last lines of a member's output, for assertion messages. */
export function tail(member: ServerProcess, lines = 25): string {
  return `--- ${member.name} output tail ---\n${member.output().split('\n').slice(-lines).join('\n')}`;
}

/** JSON.parse that keeps integers beyond 2^53 (etcdctl prints member ids as bare numbers) as strings. */
export function parseJsonKeepingBigInts(text: string): Wire {
  return JSON.parse(text.replace(/([:\[,]\s*)(-?\d{16,})(?=\s*[,}\]])/g, '$1"$2"')) as Wire;
}

export const bytes = (text: string): Buffer => Buffer.from(text);

/** Every key/value under `prefix` (one range call; at most `limit` keys). */
export async function readPrefix(client: EtcdClient, prefix: string, serializable: boolean, limit = 20_000): Promise<Map<string, string>> {
  const end = Buffer.from(prefix);
  end[end.length - 1] = end[end.length - 1]! + 1;
  const response = await client.range({ key: bytes(prefix), range_end: end, serializable, limit }, { deadlineMs: 5_000 });
  const out = new Map<string, string>();
  for (const kv of (response.kvs ?? []) as Wire[]) out.set((kv.key as Buffer).toString(), (kv.value as Buffer | undefined)?.toString() ?? '');
  return out;
}

/** Acknowledged writes absent or different in `stored`, as readable lines (empty = none lost). */
export function lostWrites(acknowledged: Map<string, string>, stored: Map<string, string>): string[] {
  const lost: string[] = [];
  for (const [key, value] of acknowledged) {
    if (stored.get(key) !== value) lost.push(`${key}: acknowledged ${value}, found ${stored.get(key) ?? '(missing)'}`);
  }
  return lost;
}

const WRITER_MAX_PUTS = 5_000;
const WRITER_MAX_MS = 60_000;

export interface Writer {
  acknowledged: Map<string, string>;
  failures: string[];
  maxGapMs: number;
  stop(): Promise<void>;
}

/**
 * A background writer: puts `<prefix><i>` = `v<i>` round-robin through `targets()` (read
 * again for every put) until stopped, bounded in count and time. Records what was
 * acknowledged, failures (first 100), and the longest time between two acknowledgements.
 */
export function startWriter(clients: Clients, prefix: string, targets: () => ServerProcess[]): Writer {
  const acknowledged = new Map<string, string>();
  const failures: string[] = [];
  let stopped = false;
  let lastAckAt = Date.now();
  const state = { maxGapMs: 0 };
  const startedAt = Date.now();
  const loop = (async () => {
    for (let i = 0; i < WRITER_MAX_PUTS && !stopped && Date.now() - startedAt < WRITER_MAX_MS; i++) {
      const list = targets();
      const via = list[i % list.length]!;
      const key = `${prefix}${i}`;
      try {
        await clients.of(via).put({ key: bytes(key), value: bytes(`v${i}`) }, { deadlineMs: 2_000 });
        acknowledged.set(key, `v${i}`);
        const now = Date.now();
        state.maxGapMs = Math.max(state.maxGapMs, now - lastAckAt);
        lastAckAt = now;
      } catch (error) {
        if (failures.length < 100) failures.push(`${key} via ${via.name}: ${describeError(error)}`);
      }
    }
  })();
  return {
    acknowledged,
    failures,
    get maxGapMs() {
      return state.maxGapMs;
    },
    async stop() {
      stopped = true;
      await loop;
    },
  };
}
