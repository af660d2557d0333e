import { Errors } from '../errors';
import type { DeleteRangeRequest, PutRequest, RangeRequest, RequestOp, TxnRequest } from '../storage/mvcc/types';

/**
 * Request checks etcd makes in its gRPC layer (etcdserver/api/v3rpc/key.go) before
 * anything is proposed. They apply to both txn branches; what depends on the state
 * (lease existence, ignore_* on a missing key, revisions) is the store's job.
 */

export function validateRange(req: RangeRequest): void {
  if (req.key.length === 0) throw Errors.emptyKey();
}

export function validatePut(req: PutRequest): void {
  if (req.key.length === 0) throw Errors.emptyKey();
  if (req.ignoreValue && req.value.length !== 0) throw Errors.valueProvided();
  if (req.ignoreLease && req.lease !== 0n) throw Errors.leaseProvided();
}

export function validateDeleteRange(req: DeleteRangeRequest): void {
  if (req.key.length === 0) throw Errors.emptyKey();
}

/** The full txn check: op counts with the nested budget, per-op checks, then overlaps. */
export function validateTxn(req: TxnRequest, maxTxnOps: number): void {
  validateTxnOps(req, maxTxnOps);
  // Overlaps are checked after the op checks, as etcd does, so their cost stays bounded.
  checkIntervals(req.success);
  checkIntervals(req.failure);
}

function validateTxnOps(req: TxnRequest, maxTxnOps: number): void {
  const opCount = Math.max(req.compare.length, req.success.length, req.failure.length);
  if (opCount > maxTxnOps) throw Errors.tooManyOps();
  for (const compare of req.compare) {
    if (compare.key.length === 0) throw Errors.emptyKey();
  }
  // A nested txn gets the budget its parent left over.
  for (const op of req.success) validateRequestOp(op, maxTxnOps - opCount);
  for (const op of req.failure) validateRequestOp(op, maxTxnOps - opCount);
}

function validateRequestOp(op: RequestOp, maxTxnOps: number): void {
  switch (op.kind) {
    case 'range': return validateRange(op.range);
    case 'put': return validatePut(op.put);
    case 'deleteRange': return validateDeleteRange(op.deleteRange);
    case 'txn': return validateTxnOps(op.txn, maxTxnOps);
    case 'none': throw Errors.keyNotFound();
  }
}

/**
 * A half-open key interval. `end` empty means +infinity, as in etcd's
 * StringAffineComparable; a single key k is [k, k + "\0").
 */
interface Interval { begin: Buffer; end: Buffer }

const ZERO_BYTE = Buffer.from([0]);

function compareAffine(a: Buffer, b: Buffer): number {
  if (a.length === 0) return b.length === 0 ? 0 : 1;
  if (b.length === 0) return -1;
  return Buffer.compare(a, b);
}

function pointInterval(key: Buffer): Interval {
  return { begin: key, end: Buffer.concat([key, ZERO_BYTE]) };
}

/**
 * Overlap exactly as etcd's interval tree tests it. Note etcd keeps range_end "\0" as the
 * literal end "\0", so a from-key delete overlaps no put here either.
 */
function overlaps(a: Interval, b: Interval): boolean {
  return compareAffine(a.begin, b.end) < 0 && compareAffine(b.begin, a.end) < 0;
}

function intersectsAny(deletes: Interval[], key: Buffer): boolean {
  const point = pointInterval(key);
  return deletes.some((d) => overlaps(d, point));
}

interface BranchWrites { puts: Set<string>; deletes: Interval[] }

/** etcd's checkIntervals: no key put twice, no put inside a delete, across nested txns. */
function checkIntervals(ops: RequestOp[]): BranchWrites {
  const deletes: Interval[] = [];
  for (const op of ops) {
    if (op.kind !== 'deleteRange') continue;
    const { key, rangeEnd } = op.deleteRange;
    deletes.push(rangeEnd.length !== 0 ? { begin: key, end: rangeEnd } : pointInterval(key));
  }
  const puts = new Set<string>();
  for (const op of ops) {
    if (op.kind !== 'txn') continue;
    const then = checkIntervals(op.txn.success);
    const otherwise = checkIntervals(op.txn.failure);
    for (const k of then.puts) {
      if (puts.has(k) || intersectsAny(deletes, Buffer.from(k, 'latin1'))) throw Errors.duplicateKey();
      puts.add(k);
    }
    for (const k of otherwise.puts) {
      // The same key in both branches of one nested txn is fine: only one branch runs.
      if (puts.has(k) && !then.puts.has(k)) throw Errors.duplicateKey();
      if (intersectsAny(deletes, Buffer.from(k, 'latin1'))) throw Errors.duplicateKey();
      puts.add(k);
    }
    deletes.push(...then.deletes, ...otherwise.deletes);
  }
  for (const op of ops) {
    if (op.kind !== 'put') continue;
    const k = op.put.key.toString('latin1');
    if (puts.has(k) || intersectsAny(deletes, op.put.key)) throw Errors.duplicateKey();
    puts.add(k);
  }
  return { puts, deletes };
}

/** etcd's lease.MaxLeaseTTL. */
export const MAX_LEASE_TTL_SECONDS = 9_000_000_000n;

export function validateLeaseGrant(ttlSeconds: bigint): void {
  if (ttlSeconds > MAX_LEASE_TTL_SECONDS) throw Errors.leaseTtlTooLarge();
}

/**
 * Bytes an InternalRequest adds around a client request: the request's field tag (1) and
 * length (up to 3 for anything near the limit), plus the header {ID} (tag 2, length 1,
 * ID tag 1 + up to 10 varint bytes).
 */
const PROPOSAL_OVERHEAD_BYTES = 1 + 3 + 2 + 1 + 1 + 10;

/**
 * etcd refuses a proposal whose encoded InternalRaftRequest exceeds max-request-bytes.
 * The API knows the client request's wire size, so it applies the same bound before
 * proposing (the member may check the exact encoding again).
 */
export function validateProposalSize(requestWireBytes: number, maxRequestBytes: number): void {
  if (requestWireBytes + PROPOSAL_OVERHEAD_BYTES > maxRequestBytes) throw Errors.requestTooLarge();
}
