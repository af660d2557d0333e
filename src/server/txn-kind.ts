import type { TxnRequest } from '../storage/mvcc/types';

/** A read-only txn may skip the ReadIndex round only if every range in it asked to be serializable. */
export function isSerializableTxn(txn: TxnRequest): boolean {
  const ops = [...txn.success, ...txn.failure];
  return ops.every((op) => (op.kind === 'range' ? op.range.serializable : op.kind === 'txn' ? isSerializableTxn(op.txn) : false));
}
