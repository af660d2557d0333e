import type { RequestOp, TxnRequest } from '../storage/mvcc/types';
import type { Proposal } from './proposal';

/** etcd's estimates of what storing a key's metadata and a lease costs. */
const KV_OVERHEAD_BYTES = 256;
const LEASE_OVERHEAD_BYTES = 64;
/** Nested txns deeper than this are refused at validation long before; a bound for the walk. */
const MAX_TXN_DEPTH = 64;

/**
 * etcd's backend quota: a request that would grow the database (a put, a txn with puts, a
 * lease grant) is refused once the database file plus the request's cost reaches
 * --quota-backend-bytes, and the member raises the NOSPACE alarm. Deletes, compaction and
 * defragment stay allowed: they are how space is freed.
 */
export class BackendQuota {
  private sizeBytes = 0n;
  private sizeReadAtMs = Number.NEGATIVE_INFINITY;

  /** The file size is re-read at most every `refreshMs` (a stat per write would cost the hot path). */
  constructor(
    private readonly dbSizeBytes: () => bigint,
    private readonly quotaBytes: bigint,
    private readonly nowMs: () => number = Date.now,
    private readonly refreshMs = 100,
  ) {
    if (quotaBytes <= 0n) throw new Error(`quota must be positive, got ${quotaBytes}`);
  }

  /** False when the request must be refused with "database space exceeded". */
  available(proposal: Proposal): boolean {
    const cost = proposalCostBytes(proposal);
    if (cost === 0) return true;
    const now = this.nowMs();
    if (now - this.sizeReadAtMs >= this.refreshMs) {
      this.sizeBytes = this.dbSizeBytes();
      this.sizeReadAtMs = now;
    }
    return this.sizeBytes + BigInt(cost) < this.quotaBytes;
  }
}

/** Bytes a request may add to the database; 0 for requests that never grow it. */
export function proposalCostBytes(proposal: Proposal): number {
  switch (proposal.kind) {
    case 'put':
      return proposal.put.key.length + proposal.put.value.length + KV_OVERHEAD_BYTES;
    case 'txn':
      return txnPutBytes(proposal.txn, 0);
    case 'leaseGrant':
      return LEASE_OVERHEAD_BYTES;
    default:
      return 0;
  }
}

/** While NOSPACE is active, etcd's capped applier refuses exactly the requests that cost space. */
export function growsDatabase(proposal: Proposal): boolean {
  return proposalCostBytes(proposal) > 0;
}

function txnPutBytes(txn: TxnRequest, depth: number): number {
  if (depth > MAX_TXN_DEPTH) throw new Error('txn nesting deeper than any valid request');
  const opBytes = (op: RequestOp): number => {
    if (op.kind === 'put') return op.put.key.length + op.put.value.length + KV_OVERHEAD_BYTES;
    if (op.kind === 'txn') return txnPutBytes(op.txn, depth + 1);
    return 0;
  };
  let total = 0;
  for (const op of txn.success) total += opBytes(op);
  for (const op of txn.failure) total += opBytes(op);
  return total;
}
