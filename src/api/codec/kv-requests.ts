import { Errors } from '../../errors';
import type {
  Compare,
  CompactionRequest,
  CompareResultValue,
  CompareTargetValue,
  DeleteRangeRequest,
  PutRequest,
  RangeRequest,
  RequestOp,
  SortOrderValue,
  SortTargetValue,
  TxnRequest,
} from '../../storage/mvcc/types';
import { hasField, int64ToWire, wireBool, wireBytes, wireEnum, wireInt64, type Wire, type WireOut } from './wire-scalars';

/**
 * KV requests, wire ↔ model. Wire objects use the .proto field names. Model → wire
 * omits zero values (proto3 canonical form) so an encoded proposal stays small.
 */

/**
 * Txn nesting deeper than this is refused while decoding. etcd's op budget (each level
 * spends at least one op of max-txn-ops) allows depth <= max-txn-ops, so this is generous.
 */
export const MAX_TXN_DEPTH = 1024;

export function rangeRequestFromWire(w: Wire): RangeRequest {
  return {
    key: wireBytes(w.key),
    rangeEnd: wireBytes(w.range_end),
    limit: wireInt64(w.limit),
    revision: wireInt64(w.revision),
    sortOrder: wireEnum<SortOrderValue>(w.sort_order, 2),
    sortTarget: wireEnum<SortTargetValue>(w.sort_target, 4),
    serializable: wireBool(w.serializable),
    keysOnly: wireBool(w.keys_only),
    countOnly: wireBool(w.count_only),
    minModRevision: wireInt64(w.min_mod_revision),
    maxModRevision: wireInt64(w.max_mod_revision),
    minCreateRevision: wireInt64(w.min_create_revision),
    maxCreateRevision: wireInt64(w.max_create_revision),
  };
}

export function putRequestFromWire(w: Wire): PutRequest {
  return {
    key: wireBytes(w.key),
    value: wireBytes(w.value),
    lease: wireInt64(w.lease),
    prevKv: wireBool(w.prev_kv),
    ignoreValue: wireBool(w.ignore_value),
    ignoreLease: wireBool(w.ignore_lease),
  };
}

export function deleteRangeRequestFromWire(w: Wire): DeleteRangeRequest {
  return { key: wireBytes(w.key), rangeEnd: wireBytes(w.range_end), prevKv: wireBool(w.prev_kv) };
}

/** A missing `result` is EQUAL, a missing `target` VERSION, a missing oneof member 0/empty. */
export function compareFromWire(w: Wire): Compare {
  return {
    result: wireEnum<CompareResultValue>(w.result, 3),
    target: wireEnum<CompareTargetValue>(w.target, 4),
    key: wireBytes(w.key),
    rangeEnd: wireBytes(w.range_end),
    version: hasField(w, 'version') ? wireInt64(w.version) : 0n,
    createRevision: hasField(w, 'create_revision') ? wireInt64(w.create_revision) : 0n,
    modRevision: hasField(w, 'mod_revision') ? wireInt64(w.mod_revision) : 0n,
    value: hasField(w, 'value') ? wireBytes(w.value) : wireBytes(undefined),
    lease: hasField(w, 'lease') ? wireInt64(w.lease) : 0n,
  };
}

export function requestOpFromWire(w: Wire, depth: number): RequestOp {
  if (hasField(w, 'request_range')) return { kind: 'range', range: rangeRequestFromWire(w.request_range) };
  if (hasField(w, 'request_put')) return { kind: 'put', put: putRequestFromWire(w.request_put) };
  if (hasField(w, 'request_delete_range')) return { kind: 'deleteRange', deleteRange: deleteRangeRequestFromWire(w.request_delete_range) };
  if (hasField(w, 'request_txn')) return { kind: 'txn', txn: txnRequestFromWire(w.request_txn, depth + 1) };
  return { kind: 'none' };
}

export function txnRequestFromWire(w: Wire, depth = 0): TxnRequest {
  if (depth > MAX_TXN_DEPTH) throw Errors.tooManyOps();
  const compares: Wire[] = Array.isArray(w.compare) ? w.compare : [];
  const success: Wire[] = Array.isArray(w.success) ? w.success : [];
  const failure: Wire[] = Array.isArray(w.failure) ? w.failure : [];
  return {
    compare: compares.map(compareFromWire),
    success: success.map((op) => requestOpFromWire(op, depth)),
    failure: failure.map((op) => requestOpFromWire(op, depth)),
  };
}

export function compactionRequestFromWire(w: Wire): CompactionRequest {
  return { revision: wireInt64(w.revision), physical: wireBool(w.physical) };
}

// ---- model → wire (proposals) ----

/** Sets `field` only when the value is not proto3's default, keeping encodings canonical. */
function setInt64(out: WireOut, field: string, value: bigint): void {
  if (value !== 0n) out[field] = int64ToWire(value);
}
function setBytes(out: WireOut, field: string, value: Buffer): void {
  if (value.length > 0) out[field] = value;
}
function setTrue(out: WireOut, field: string, value: boolean): void {
  if (value) out[field] = true;
}
function setEnum(out: WireOut, field: string, value: number): void {
  if (value !== 0) out[field] = value;
}

export function rangeRequestToWire(r: RangeRequest): WireOut {
  const out: WireOut = {};
  setBytes(out, 'key', r.key);
  setBytes(out, 'range_end', r.rangeEnd);
  setInt64(out, 'limit', r.limit);
  setInt64(out, 'revision', r.revision);
  setEnum(out, 'sort_order', r.sortOrder);
  setEnum(out, 'sort_target', r.sortTarget);
  setTrue(out, 'serializable', r.serializable);
  setTrue(out, 'keys_only', r.keysOnly);
  setTrue(out, 'count_only', r.countOnly);
  setInt64(out, 'min_mod_revision', r.minModRevision);
  setInt64(out, 'max_mod_revision', r.maxModRevision);
  setInt64(out, 'min_create_revision', r.minCreateRevision);
  setInt64(out, 'max_create_revision', r.maxCreateRevision);
  return out;
}

export function putRequestToWire(r: PutRequest): WireOut {
  const out: WireOut = {};
  setBytes(out, 'key', r.key);
  setBytes(out, 'value', r.value);
  setInt64(out, 'lease', r.lease);
  setTrue(out, 'prev_kv', r.prevKv);
  setTrue(out, 'ignore_value', r.ignoreValue);
  setTrue(out, 'ignore_lease', r.ignoreLease);
  return out;
}

export function deleteRangeRequestToWire(r: DeleteRangeRequest): WireOut {
  const out: WireOut = {};
  setBytes(out, 'key', r.key);
  setBytes(out, 'range_end', r.rangeEnd);
  setTrue(out, 'prev_kv', r.prevKv);
  return out;
}

/** The oneof member matching `target` is always written (as the Go client does), even if 0. */
export function compareToWire(c: Compare): WireOut {
  const out: WireOut = {};
  setEnum(out, 'result', c.result);
  setEnum(out, 'target', c.target);
  setBytes(out, 'key', c.key);
  setBytes(out, 'range_end', c.rangeEnd);
  switch (c.target) {
    case 0: out.version = int64ToWire(c.version); break;
    case 1: out.create_revision = int64ToWire(c.createRevision); break;
    case 2: out.mod_revision = int64ToWire(c.modRevision); break;
    case 3: out.value = c.value; break;
    case 4: out.lease = int64ToWire(c.lease); break;
    default: throw new Error(`unknown compare target ${String(c.target)}`);
  }
  return out;
}

export function requestOpToWire(op: RequestOp): WireOut {
  switch (op.kind) {
    case 'range': return { request_range: rangeRequestToWire(op.range) };
    case 'put': return { request_put: putRequestToWire(op.put) };
    case 'deleteRange': return { request_delete_range: deleteRangeRequestToWire(op.deleteRange) };
    case 'txn': return { request_txn: txnRequestToWire(op.txn) };
    case 'none': return {};
  }
}

export function txnRequestToWire(t: TxnRequest): WireOut {
  const out: WireOut = {};
  if (t.compare.length > 0) out.compare = t.compare.map(compareToWire);
  if (t.success.length > 0) out.success = t.success.map(requestOpToWire);
  if (t.failure.length > 0) out.failure = t.failure.map(requestOpToWire);
  return out;
}

export function compactionRequestToWire(c: CompactionRequest): WireOut {
  const out: WireOut = {};
  setInt64(out, 'revision', c.revision);
  setTrue(out, 'physical', c.physical);
  return out;
}
