import type { KvView } from './kv-view';
import { CompareResult, CompareTarget, type Compare, type KeyValue, type TxnRequest } from './types';
import { compareBigints } from '../../compare-bigints';

const ZERO_KEY_VALUE: KeyValue = {
  key: Buffer.alloc(0),
  createRevision: 0n,
  modRevision: 0n,
  version: 0n,
  value: Buffer.alloc(0),
  lease: 0n,
};

/**
 * The branch each txn (and each nested txn on the chosen path) takes, decided before any op
 * of the outer txn runs (etcd's compareToPath): nested compares see the pre-txn state.
 */
export interface TxnPlan {
  succeeded: boolean;
  /** For each op of the chosen branch: its plan if it is a nested txn. */
  nested: (TxnPlan | undefined)[];
}

export function planTxn(view: KvView, req: TxnRequest): TxnPlan {
  const succeeded = req.compare.every((compare) => evaluateCompare(view, compare));
  const ops = succeeded ? req.success : req.failure;
  return { succeeded, nested: ops.map((op) => (op.kind === 'txn' ? planTxn(view, op.txn) : undefined)) };
}

/** etcd applyCompare: every key in the range must satisfy it; an empty range uses a zero KeyValue, except VALUE, which is false. */
export function evaluateCompare(view: KvView, compare: Compare): boolean {
  const { kvs } = view.scanLatest(compare.key, compare.rangeEnd, 0, false);
  if (kvs.length === 0) {
    if (compare.target === CompareTarget.VALUE) return false;
    return compareKeyValue(compare, ZERO_KEY_VALUE);
  }
  return kvs.every((kv) => compareKeyValue(compare, kv));
}

function compareKeyValue(compare: Compare, kv: KeyValue): boolean {
  let result: number;
  switch (compare.target) {
    case CompareTarget.VALUE:
      result = Buffer.compare(kv.value, compare.value);
      break;
    case CompareTarget.CREATE:
      result = compareBigints(kv.createRevision, compare.createRevision);
      break;
    case CompareTarget.MOD:
      result = compareBigints(kv.modRevision, compare.modRevision);
      break;
    case CompareTarget.VERSION:
      result = compareBigints(kv.version, compare.version);
      break;
    case CompareTarget.LEASE:
      result = compareBigints(kv.lease, compare.lease);
      break;
    default:
      result = 0; // unknown target: etcd leaves result 0
  }
  switch (compare.result) {
    case CompareResult.EQUAL:
      return result === 0;
    case CompareResult.NOT_EQUAL:
      return result !== 0;
    case CompareResult.GREATER:
      return result > 0;
    case CompareResult.LESS:
      return result < 0;
    default:
      return true; // unknown operator: etcd returns true
  }
}
