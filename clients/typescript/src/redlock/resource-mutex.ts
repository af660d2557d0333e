import { CompareResult, CompareTarget, EtcdRpc, SortOrder, SortTarget, Wire, prefixEnd } from './etcd-rpc';
import { ResourceLockedError } from './errors';

/**
 * A redlock resource is an etcd mutex named `redlock/<resource>`, laid out exactly as
 * clientv3/concurrency's Mutex (and `etcdctl lock`) lays it out: the holder's key is
 * `redlock/<resource>/<lease id hex>`, created with its lease; the queue is ordered by create
 * revision. The create revision of the holder's key is its fencing token.
 *
 * Redlock never queues: an acquire attempt is a TryLock (put our key, and if an older key
 * exists, take ours away again and report the resource as locked).
 */

export const MUTEX_NAMESPACE = 'redlock/';

export interface HeldResource {
  readonly resource: string;
  /** `redlock/<resource>/<lease hex>` */
  readonly key: string;
  /** Create revision of `key`: strictly greater than every earlier holder's. */
  readonly fencingToken: bigint;
}

export function mutexPrefix(resource: string): string {
  return `${MUTEX_NAMESPACE}${resource}/`;
}

export function holderKey(resource: string, leaseId: bigint): string {
  return `${mutexPrefix(resource)}${leaseId.toString(16)}`;
}

/** `CREATE(key) == fencingToken`: true exactly while this holder's key is the same key. */
export function stillHeldCompare(held: HeldResource): Wire {
  return {
    result: CompareResult.EQUAL,
    target: CompareTarget.CREATE,
    key: Buffer.from(held.key),
    create_revision: held.fencingToken.toString(),
  };
}

/** One TryLock round for `resource` under `leaseId`; throws ResourceLockedError if held by another. */
export async function tryLockResource(rpc: EtcdRpc, resource: string, leaseId: bigint): Promise<HeldResource> {
  const prefix = Buffer.from(mutexPrefix(resource));
  const key = holderKey(resource, leaseId);
  const ownerRange = {
    request_range: {
      key: prefix,
      range_end: prefixEnd(prefix),
      sort_order: SortOrder.ASCEND,
      sort_target: SortTarget.CREATE,
      limit: '1',
    },
  };
  const response = await rpc.txn({
    compare: [{ result: CompareResult.EQUAL, target: CompareTarget.CREATE, key: Buffer.from(key), create_revision: '0' }],
    success: [{ request_put: { key: Buffer.from(key), value: Buffer.alloc(0), lease: leaseId.toString() } }, ownerRange],
    failure: [{ request_range: { key: Buffer.from(key) } }, ownerRange],
  });
  const responses = response.responses as Wire[];
  const myRevision = response.succeeded
    ? BigInt(response.header.revision)
    : BigInt(responses[0]!.response_range.kvs[0].create_revision);
  const owner = (responses[1]!.response_range.kvs as Wire[])[0];
  if (owner === undefined || BigInt(owner.create_revision) === myRevision) {
    return { resource, key, fencingToken: myRevision };
  }
  // Another holder is ahead of us: leave no waiter behind (TryLock semantics).
  await rpc.deleteRange({ key: Buffer.from(key) });
  throw new ResourceLockedError(`The resource "${resource}" is locked by ${owner.key.toString()}.`);
}

/** Deletes the holder key if it is still ours; true if it was deleted. */
export async function unlockResource(rpc: EtcdRpc, held: HeldResource): Promise<boolean> {
  const response = await rpc.txn({
    compare: [stillHeldCompare(held)],
    success: [{ request_delete_range: { key: Buffer.from(held.key) } }],
    failure: [],
  });
  return response.succeeded === true;
}
