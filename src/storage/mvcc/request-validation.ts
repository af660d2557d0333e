import { Errors } from '../../errors';
import { MAX_KEY_BYTES } from './key-range';
import type { DeleteRangeRequest, PutRequest, RangeRequest, RequestOp, TxnRequest } from './types';

/**
 * Checks etcd makes before proposing a request (etcdserver/api/v3rpc/key.go). They depend
 * only on the request, so the API layer runs them before Raft and the store re-runs them
 * at apply; a request that fails them changes nothing.
 */

export const DEFAULT_MAX_TXN_OPS = 128;

export function validateRange(req: RangeRequest): void {
  if (req.key.length === 0) throw Errors.emptyKey();
}

export function validatePut(req: PutRequest): void {
  if (req.key.length === 0) throw Errors.emptyKey();
  if (req.ignoreValue && req.value.length !== 0) throw Errors.valueProvided();
  if (req.ignoreLease && req.lease !== 0n) throw Errors.leaseProvided();
  // Not an etcd rule: LMDB bounds key length (see MAX_KEY_BYTES).
  if (req.key.length > MAX_KEY_BYTES) throw Errors.requestTooLarge();
}

export function validateDeleteRange(req: DeleteRangeRequest): void {
  if (req.key.length === 0) throw Errors.emptyKey();
}

/** checkTxnRequest + checkIntervals on both branches, in etcd's order. */
export function validateTxn(req: TxnRequest, maxTxnOps: number = DEFAULT_MAX_TXN_OPS): void {
  checkTxnShape(req, maxTxnOps);
  checkIntervals(req.success);
  checkIntervals(req.failure);
}

function checkTxnShape(req: TxnRequest, maxTxnOps: number): void {
  const opCount = Math.max(req.compare.length, req.success.length, req.failure.length);
  if (opCount > maxTxnOps) throw Errors.tooManyOps();
  for (const compare of req.compare) if (compare.key.length === 0) throw Errors.emptyKey();
  for (const op of req.success) checkRequestOp(op, maxTxnOps - opCount);
  for (const op of req.failure) checkRequestOp(op, maxTxnOps - opCount);
}

function checkRequestOp(op: RequestOp, maxTxnOps: number): void {
  switch (op.kind) {
    case 'range':
      return validateRange(op.range);
    case 'put':
      return validatePut(op.put);
    case 'deleteRange':
      return validateDeleteRange(op.deleteRange);
    case 'txn':
      return checkTxnShape(op.txn, maxTxnOps);
    case 'none':
      throw Errors.keyNotFound();
  }
}

/**
 * A delete range as etcd's adt.StringAffineInterval sees it: [start, end) compared as plain
 * byte strings, so the "\0" from-key end is the literal string "\0" (such deletes never
 * collide with a put, as in etcd). A point delete is end = null.
 */
interface DeleteInterval {
  start: Buffer;
  end: Buffer | null;
}

function deleteCovers(interval: DeleteInterval, key: Buffer): boolean {
  if (interval.end === null) return interval.start.equals(key);
  return Buffer.compare(interval.start, key) <= 0 && Buffer.compare(key, interval.end) < 0;
}

function anyDeleteCovers(deletes: DeleteInterval[], key: Buffer): boolean {
  for (const interval of deletes) if (deleteCovers(interval, key)) return true;
  return false;
}

interface BranchWrites {
  /** Put keys, as binary strings (Buffer 'latin1'), for set membership. */
  puts: Set<string>;
  deletes: DeleteInterval[];
}

/**
 * etcd's checkIntervals: in one branch (including its nested txns) no key may be put twice
 * and no put may fall inside a delete range. The then/else branches of a nested txn are
 * mutually exclusive, so the same key may be put in both.
 */
function checkIntervals(ops: RequestOp[]): BranchWrites {
  const deletes: DeleteInterval[] = [];
  for (const op of ops) {
    if (op.kind !== 'deleteRange') continue;
    const del = op.deleteRange;
    deletes.push({ start: del.key, end: del.rangeEnd.length !== 0 ? del.rangeEnd : null });
  }

  const puts = new Set<string>();
  for (const op of ops) {
    if (op.kind !== 'txn') continue;
    const then = checkIntervals(op.txn.success);
    const otherwise = checkIntervals(op.txn.failure);
    for (const key of then.puts) {
      if (puts.has(key) || anyDeleteCovers(deletes, Buffer.from(key, 'latin1'))) throw Errors.duplicateKey();
      puts.add(key);
    }
    for (const key of otherwise.puts) {
      if (puts.has(key) && !then.puts.has(key)) throw Errors.duplicateKey();
      if (anyDeleteCovers(deletes, Buffer.from(key, 'latin1'))) throw Errors.duplicateKey();
      puts.add(key);
    }
    deletes.push(...then.deletes, ...otherwise.deletes);
  }

  for (const op of ops) {
    if (op.kind !== 'put') continue;
    const key = op.put.key.toString('latin1');
    if (puts.has(key) || anyDeleteCovers(deletes, op.put.key)) throw Errors.duplicateKey();
    puts.add(key);
  }
  return { puts, deletes };
}
