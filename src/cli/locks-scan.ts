import { LocksRpc, StoredKey } from './locks-rpc';

/**
 * Finds every lock and election through the public API only. Mutexes and elections
 * (clientv3/concurrency, `etcdctl lock|elect`, latchkey's client, v3lock/v3election) all use
 * one layout: a queue key `<name>/<lease id>` created with that lease, the queue ordered by
 * create revision, the first key the holder (leader). So: scan every key (keys only, paged,
 * at one pinned revision), keep the keys whose last path segment is the id of the lease they
 * carry (lowercase hex as Go writes it, or decimal as the etcd3 npm package's elections do),
 * and group them by name.
 */

export interface QueueEntry {
  key: string;
  leaseId: bigint;
  /** For the holder this is its fencing token. */
  createRevision: bigint;
  value: string;
}

export interface LockView {
  name: string;
  /** 'election' when a queue key carries a value (a campaign proposal); locks keep "". */
  kind: 'lock' | 'election';
  holder: QueueEntry;
  /** Remaining / granted TTL of the holder's lease (seconds), if the lease still answered. */
  holderTtlSeconds?: bigint;
  holderGrantedTtlSeconds?: bigint;
  /** In queue order: the first waiter is next. */
  waiters: QueueEntry[];
}

export interface LocksSnapshot {
  revision: bigint;
  locks: LockView[];
}

const PAGE_KEYS = 1000;
/** Bounds the scan (10 M keys): a runaway loop must not hang the tool. */
const MAX_PAGES = 10_000;

/** Name and lease of a queue key, or undefined if `kv` is not one. */
export function parseQueueKey(kv: StoredKey): { name: string; leaseId: bigint } | undefined {
  if (kv.leaseId === 0n) return undefined;
  const key = kv.key.toString('utf8');
  const slash = key.lastIndexOf('/');
  if (slash <= 0 || slash === key.length - 1) return undefined;
  const suffix = key.slice(slash + 1);
  const matchesHex = /^[0-9a-f]+$/.test(suffix) && BigInt(`0x${suffix}`) === kv.leaseId;
  const matchesDecimal = /^[0-9]+$/.test(suffix) && BigInt(suffix) === kv.leaseId;
  if (!matchesHex && !matchesDecimal) return undefined;
  return { name: key.slice(0, slash), leaseId: kv.leaseId };
}

/** Groups queue keys by name; each queue in create-revision order, names sorted. */
export function groupQueues(kvs: readonly StoredKey[]): Map<string, QueueEntry[]> {
  const queues = new Map<string, QueueEntry[]>();
  for (const kv of kvs) {
    const parsed = parseQueueKey(kv);
    if (parsed === undefined) continue;
    const entry: QueueEntry = {
      key: kv.key.toString('utf8'),
      leaseId: parsed.leaseId,
      createRevision: kv.createRevision,
      value: kv.value.toString('utf8'),
    };
    const queue = queues.get(parsed.name);
    if (queue === undefined) queues.set(parsed.name, [entry]);
    else queue.push(entry);
  }
  for (const queue of queues.values()) queue.sort((a, b) => (a.createRevision < b.createRevision ? -1 : a.createRevision > b.createRevision ? 1 : 0));
  return new Map([...queues.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** Every key (keys only) at one revision, paged. */
async function scanAllKeys(rpc: LocksRpc): Promise<{ revision: bigint; kvs: StoredKey[] }> {
  const all: StoredKey[] = [];
  let from = Buffer.from([0]);
  let revision = 0n;
  for (let page = 0; page < MAX_PAGES; page++) {
    const result = await rpc.range(from, Buffer.from([0]), { revision, limit: PAGE_KEYS, keysOnly: true });
    if (revision === 0n) revision = result.revision;
    all.push(...result.kvs);
    const last = result.kvs[result.kvs.length - 1];
    if (!result.more || last === undefined) return { revision, kvs: all };
    from = Buffer.concat([last.key, Buffer.from([0])]);
  }
  throw new Error(`more than ${MAX_PAGES * PAGE_KEYS} keys: scan stopped`);
}

/** Values of the queue keys of one name (elections show them), at the scan's revision. */
async function withValues(rpc: LocksRpc, name: string, queue: QueueEntry[], revision: bigint): Promise<QueueEntry[]> {
  const keys = queue.map((entry) => entry.key).sort();
  const first = Buffer.from(keys[0]!);
  const end = Buffer.concat([Buffer.from(keys[keys.length - 1]!), Buffer.from([0])]);
  const page = await rpc.range(first, end, { revision, limit: 0, keysOnly: false });
  const values = new Map(page.kvs.map((kv) => [kv.key.toString('utf8'), kv.value.toString('utf8')]));
  return queue.map((entry) => {
    const value = values.get(entry.key);
    // The revision is pinned, so a key the scan saw must still be there.
    if (value === undefined) throw new Error(`queue key ${entry.key} of ${name} missing at revision ${revision}`);
    return { ...entry, value };
  });
}

export async function readLocks(rpc: LocksRpc): Promise<LocksSnapshot> {
  const { revision, kvs } = await scanAllKeys(rpc);
  const locks: LockView[] = [];
  for (const [name, keysOnly] of groupQueues(kvs)) {
    const queue = await withValues(rpc, name, keysOnly, revision);
    const [holder, ...waiters] = queue;
    const view: LockView = { name, kind: queue.some((entry) => entry.value !== '') ? 'election' : 'lock', holder: holder!, waiters };
    const ttl = await rpc.leaseTimeToLive(holder!.leaseId).catch(() => undefined);
    if (ttl !== undefined && ttl.ttlSeconds >= 0n) {
      view.holderTtlSeconds = ttl.ttlSeconds;
      view.holderGrantedTtlSeconds = ttl.grantedTtlSeconds;
    }
    locks.push(view);
  }
  return { revision, locks };
}
