import type { RangeRequest } from '../storage/mvcc/types';
import { SortOrder, SortTarget } from '../storage/mvcc/types';

/**
 * Key layout shared with Go's clientv3/concurrency (and so with `etcdctl lock` / `etcdctl
 * elect`): a lock or election called N keeps its queue under the prefix `N/`, one key per
 * lease, `N/<lease id in lowercase hex, no padding>`. Keys are ordered by create revision;
 * the first-created key is the holder (or leader).
 */

/** The queue prefix of a lock or election name (Go: pfx + "/"). */
export function queuePrefix(name: Buffer): Buffer {
  return Buffer.concat([name, Buffer.from('/')]);
}

/**
 * Go's `fmt.Sprintf("%x", lease)` on an int64: lowercase hex without padding, with a minus
 * sign for a negative id (etcd accepts client-chosen negative lease ids).
 */
export function leaseHex(lease: bigint): string {
  return lease < 0n ? `-${(-lease).toString(16)}` : lease.toString(16);
}

/** The key a lease owns in a queue: `<prefix><lease hex>`. */
export function queueKey(prefix: Buffer, lease: bigint): Buffer {
  return Buffer.concat([prefix, Buffer.from(leaseHex(lease))]);
}

/** etcd's prefix end: increment the last byte below 0xff and drop the rest; all-0xff → "\0". */
export function prefixEnd(prefix: Buffer): Buffer {
  for (let i = prefix.length - 1; i >= 0; i--) {
    const byte = prefix[i]!;
    if (byte < 0xff) {
      const end = Buffer.from(prefix.subarray(0, i + 1));
      end[i] = byte + 1;
      return end;
    }
  }
  return Buffer.from([0]);
}

function emptyRange(key: Buffer): RangeRequest {
  return {
    key,
    rangeEnd: Buffer.alloc(0),
    limit: 0n,
    revision: 0n,
    sortOrder: SortOrder.NONE,
    sortTarget: SortTarget.KEY,
    serializable: false,
    keysOnly: false,
    countOnly: false,
    minModRevision: 0n,
    maxModRevision: 0n,
    minCreateRevision: 0n,
    maxCreateRevision: 0n,
  };
}

/** Range of exactly one key. */
export function singleKeyRange(key: Buffer): RangeRequest {
  return emptyRange(key);
}

/** Go's WithFirstCreate: the oldest key under the prefix (the holder / leader). */
export function firstCreatedRange(prefix: Buffer): RangeRequest {
  return { ...emptyRange(prefix), rangeEnd: prefixEnd(prefix), limit: 1n, sortOrder: SortOrder.ASCEND, sortTarget: SortTarget.CREATE };
}

/**
 * Go's WithLastCreate + WithMaxCreateRev: the newest key under the prefix created at or
 * before `maxCreateRevision`, i.e. the waiter just ahead of a key created after it.
 */
export function lastCreatedBeforeRange(prefix: Buffer, maxCreateRevision: bigint): RangeRequest {
  return {
    ...emptyRange(prefix),
    rangeEnd: prefixEnd(prefix),
    limit: 1n,
    sortOrder: SortOrder.DESCEND,
    sortTarget: SortTarget.CREATE,
    maxCreateRevision,
  };
}
