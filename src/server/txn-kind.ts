import type { RequestOp, TxnRequest } from '../storage/mvcc/types';

/** A txn whose every op (in both branches, nested included) only reads. etcd serves these without Raft. */
export function isReadOnlyTxn(txn: TxnRequest): boolean {
  return txn.success.every(isReadOnlyOp) && txn.failure.every(isReadOnlyOp);
}

function isReadOnlyOp(op: RequestOp): boolean {
  if (op.kind === 'range') return true;
  if (op.kind === 'txn') return isReadOnlyTxn(op.txn);
  return false;
}

/** A read-only txn may be served locally only if every range in it asked to be serializable. */
export function isSerializableTxn(txn: TxnRequest): boolean {
  const ops = [...txn.success, ...txn.failure];
  return ops.every((op) => (op.kind === 'range' ? op.range.serializable : op.kind === 'txn' ? isSerializableTxn(op.txn) : false));
}
