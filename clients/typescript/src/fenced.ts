import type { Compare, KV, PutOptions, RequestOp, TxnResult, Bytes } from './kv';

/** What a fenced write needs from a lock: its key and fencing token (a Mutex has both). */
export interface FencingLock {
  readonly key: string;
  readonly fencingToken: bigint;
}

export interface FencedResult {
  /** False: the lock key is gone or belongs to a newer holder; nothing was written. */
  applied: boolean;
  txn: TxnResult;
}

/** The guard: the lock key still exists with exactly this create revision. */
export function fenceCompare(lock: FencingLock): Compare {
  return { key: lock.key, target: 'create', result: '=', value: lock.fencingToken };
}

/**
 * Runs `ops` in one Txn that applies only while the caller still holds the lock with that
 * token: compare CREATE(lockKey) == token. If the lock was lost (lease expired or revoked,
 * key deleted, someone else holds it under a new key) nothing is written, even though the
 * caller may still believe it holds the lock. `extraCompares` are ANDed with the fence.
 */
export async function fencedTxn(kv: KV, lock: FencingLock, ops: RequestOp[], extraCompares: Compare[] = []): Promise<FencedResult> {
  const txn = await kv.txn({ compare: [fenceCompare(lock), ...extraCompares], success: ops });
  return { applied: txn.succeeded, txn };
}

/** A Put guarded by the lock's fencing token; resolves whether it was written. */
export async function fencedPut(kv: KV, lock: FencingLock, key: Bytes, value: Bytes, options: PutOptions = {}): Promise<boolean> {
  const result = await fencedTxn(kv, lock, [{ put: { key, value, ...options } }]);
  return result.applied;
}

/** A DeleteRange of one key guarded by the lock's fencing token; resolves whether it ran. */
export async function fencedDelete(kv: KV, lock: FencingLock, key: Bytes): Promise<boolean> {
  const result = await fencedTxn(kv, lock, [{ deleteRange: { key } }]);
  return result.applied;
}
