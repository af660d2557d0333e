import { Errors } from '../../errors';
import type { KvView } from './kv-view';
import { inKeyRange } from './key-range';
import { executeRange } from './range-executor';
import type { RequestScope } from './request-scope';
import type { TxnPlan } from './txn-compare';
import type {
  DeleteRangeRequest,
  DeleteRangeResult,
  PutRequest,
  PutResult,
  RequestOp,
  ResponseOp,
  TxnRequest,
  TxnResult,
} from './types';

/**
 * The write half of etcd's applier (apply.go): Put, DeleteRange and Txn against one
 * RequestScope. Checks that can fail run before the first write of a request (see
 * checkTxnPath), so a failing request leaves the store untouched.
 */

export type LeaseExists = (id: bigint) => boolean;

/** etcd checkPut: the key must exist for ignore_value/ignore_lease; the lease must exist. */
export function checkPut(view: KvView, req: PutRequest, leaseExists: LeaseExists): void {
  if ((req.ignoreValue || req.ignoreLease) && !view.hasLatest(req.key)) throw Errors.keyNotFound();
  if (req.lease !== 0n && !leaseExists(req.lease)) throw Errors.leaseNotFound();
}

export function applyPut(scope: RequestScope, view: KvView, req: PutRequest): PutResult {
  let value = req.value;
  let lease = req.lease;
  if (req.ignoreValue || req.ignoreLease) {
    const current = view.getLatest(req.key);
    // An earlier op of the same txn may have deleted the key through a "\0" range, which
    // etcd's interval check lets through (etcd panics here); checkPathMidway refuses that
    // path before its first write, so reaching this is a bug, not a request to refuse.
    if (current === undefined) throw new Error(`ignore_value/ignore_lease put of a deleted key reached apply; checkPathMidway should have refused it`);
    if (req.ignoreValue) value = current.value;
    if (req.ignoreLease) lease = current.lease;
  }
  const replaced = scope.put(req.key, value, lease);
  return req.prevKv && replaced !== undefined ? { prevKv: replaced } : {};
}

export function applyDeleteRange(scope: RequestScope, req: DeleteRangeRequest): DeleteRangeResult {
  const deleted = scope.deleteRange(req.key, req.rangeEnd);
  return { deleted: BigInt(deleted.length), prevKvs: req.prevKv ? deleted : [] };
}

/** etcd isTxnReadonly: only range ops (a nested txn counts as a write). */
/** Every op of both branches only reads, nested txns included (etcd serves these without Raft). */
export function isTxnReadOnly(req: TxnRequest): boolean {
  const readsOnly = (op: RequestOp): boolean => op.kind === 'range' || (op.kind === 'txn' && isTxnReadOnly(op.txn));
  return req.success.every(readsOnly) && req.failure.every(readsOnly);
}

function chosenOps(req: TxnRequest, plan: TxnPlan): RequestOp[] {
  return plan.succeeded ? req.success : req.failure;
}

export interface TxnCheckContext {
  view: KvView;
  leaseExists: LeaseExists;
  beginRevision: bigint;
  compactMain: bigint;
}

/** etcd checkRequests on the chosen path: all puts first (write txns only), then all ranges. */
export function checkTxnPath(context: TxnCheckContext, req: TxnRequest, plan: TxnPlan): void {
  if (!isTxnReadOnly(req)) checkPathPuts(context, req, plan);
  checkPathRanges(context, req, plan);
}

function checkPathPuts(context: TxnCheckContext, req: TxnRequest, plan: TxnPlan): void {
  chosenOps(req, plan).forEach((op, i) => {
    if (op.kind === 'put') checkPut(context.view, op.put, context.leaseExists);
    else if (op.kind === 'txn') checkPathPuts(context, op.txn, nestedPlan(plan, i));
  });
}

function checkPathRanges(context: TxnCheckContext, req: TxnRequest, plan: TxnPlan): void {
  chosenOps(req, plan).forEach((op, i) => {
    if (op.kind === 'range') {
      // etcd checkRange compares with the pre-txn revision and FirstRev (compactMainRev).
      const revision = op.range.revision;
      if (revision === 0n) return;
      if (revision > context.beginRevision) throw Errors.futureRevision();
      if (revision < context.compactMain) throw Errors.compacted();
    } else if (op.kind === 'txn') {
      checkPathRanges(context, op.txn, nestedPlan(plan, i));
    }
  });
}

function nestedPlan(plan: TxnPlan, index: number): TxnPlan {
  const nested = plan.nested[index];
  if (nested === undefined) throw new Error(`txn plan has no nested plan for op ${index}`);
  return nested;
}

/** Whether applying the path can still fail after its checks passed (see applyPut). */
function pathCanFailMidway(req: TxnRequest, plan: TxnPlan): boolean {
  let deletes = false;
  let ignoringPuts = false;
  const visit = (txn: TxnRequest, txnPlan: TxnPlan): void => {
    chosenOps(txn, txnPlan).forEach((op, i) => {
      if (op.kind === 'deleteRange') deletes = true;
      else if (op.kind === 'put' && (op.put.ignoreValue || op.put.ignoreLease)) ignoringPuts = true;
      else if (op.kind === 'txn') visit(op.txn, nestedPlan(txnPlan, i));
    });
  };
  visit(req, plan);
  return deletes && ignoringPuts;
}

/** A write of the path, in execution order, as far as key existence is concerned. */
type PathWrite = { kind: 'put'; key: Buffer } | { kind: 'delete'; key: Buffer; rangeEnd: Buffer };

/**
 * Refuses, before anything is written, the one path that would otherwise fail midway: an
 * ignore_value/ignore_lease put of a key an earlier op of the same txn deleted (see
 * applyPut). It replays the path's puts and deletes over the committed view, so a failing
 * txn never needs an LMDB child transaction to undo half of it (child transactions do not
 * exist with the write map the store runs on).
 */
export function checkPathMidway(view: KvView, req: TxnRequest, plan: TxnPlan): void {
  if (!pathCanFailMidway(req, plan)) return;
  const writes: PathWrite[] = [];
  const exists = (key: Buffer): boolean => {
    for (let i = writes.length - 1; i >= 0; i--) {
      const write = writes[i]!;
      if (write.kind === 'put' && write.key.equals(key)) return true;
      if (write.kind === 'delete' && inKeyRange(key, write.key, write.rangeEnd)) return false;
    }
    return view.hasLatest(key);
  };
  const visit = (txn: TxnRequest, txnPlan: TxnPlan): void => {
    chosenOps(txn, txnPlan).forEach((op, i) => {
      if (op.kind === 'put') {
        if ((op.put.ignoreValue || op.put.ignoreLease) && !exists(op.put.key)) throw Errors.keyNotFound();
        writes.push({ kind: 'put', key: op.put.key });
      } else if (op.kind === 'deleteRange') {
        writes.push({ kind: 'delete', key: op.deleteRange.key, rangeEnd: op.deleteRange.rangeEnd });
      } else if (op.kind === 'txn') {
        visit(op.txn, nestedPlan(txnPlan, i));
      }
    });
  };
  visit(req, plan);
}

/** Runs the chosen branch; inner header revisions follow etcd (facts §3). */
export function applyTxnPath(scope: RequestScope, view: KvView, compactMain: bigint, req: TxnRequest, plan: TxnPlan): TxnResult {
  const responses: ResponseOp[] = chosenOps(req, plan).map((op, i): ResponseOp => {
    switch (op.kind) {
      case 'range': {
        const range = executeRange(view, op.range, { current: scope.viewRevision, compactMain });
        return { kind: 'range', range, headerRevision: scope.viewRevision };
      }
      case 'put': {
        const put = applyPut(scope, view, op.put);
        return { kind: 'put', put, headerRevision: scope.writeRevision };
      }
      case 'deleteRange': {
        const deleteRange = applyDeleteRange(scope, op.deleteRange);
        return { kind: 'deleteRange', deleteRange, headerRevision: scope.viewRevision };
      }
      case 'txn':
        return { kind: 'txn', txn: applyTxnPath(scope, view, compactMain, op.txn, nestedPlan(plan, i)) };
      case 'none':
        throw new Error('empty RequestOp reached apply; validateTxn should have refused it');
    }
  });
  return { succeeded: plan.succeeded, responses };
}
