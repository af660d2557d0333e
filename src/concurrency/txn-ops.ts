import type { Compare, DeleteRangeRequest, KeyValue, RangeRequest, RequestOp, TxnResult } from '../storage/mvcc/types';
import { CompareResult, CompareTarget } from '../storage/mvcc/types';

/** Small builders for the txns the concurrency algorithms send (Go's v3.Compare / v3.OpPut…). */

/** `CREATE(key) == createRevision` (0 = the key does not exist). */
export function createRevisionIs(key: Buffer, createRevision: bigint): Compare {
  return {
    result: CompareResult.EQUAL,
    target: CompareTarget.CREATE,
    key,
    rangeEnd: Buffer.alloc(0),
    version: 0n,
    createRevision,
    modRevision: 0n,
    value: Buffer.alloc(0),
    lease: 0n,
  };
}

export function putOp(key: Buffer, value: Buffer, lease: bigint): RequestOp {
  return { kind: 'put', put: { key, value, lease, prevKv: false, ignoreValue: false, ignoreLease: false } };
}

export function rangeOp(range: RangeRequest): RequestOp {
  return { kind: 'range', range };
}

/** DeleteRange of exactly one key. */
export function deleteKeyRequest(key: Buffer): DeleteRangeRequest {
  return { key, rangeEnd: Buffer.alloc(0), prevKv: false };
}

export function deleteOp(key: Buffer): RequestOp {
  return { kind: 'deleteRange', deleteRange: deleteKeyRequest(key) };
}

/** The kvs of the range at `index` of a txn's responses (asserts the shape we sent). */
export function rangeKvsAt(result: TxnResult, index: number): KeyValue[] {
  const op = result.responses[index];
  if (op === undefined || op.kind !== 'range') throw new Error(`txn response ${index} is not a range`);
  return op.range.kvs;
}
