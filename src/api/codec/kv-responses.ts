import type { DeleteRangeResult, Event, KeyValue, PutResult, RangeResult, ResponseOp, TxnResult } from '../../storage/mvcc/types';
import type { ResponseHeader } from '../member-port';
import { int64ToWire, type WireOut } from './wire-scalars';

/**
 * KV responses, model → wire, in proto3 canonical form: zero values are left out, except
 * where etcd always sends something (every top-level KV/Lease/Txn response has a header;
 * a ResponseOp always sets its oneof, even to an empty submessage).
 */

export function headerToWire(h: ResponseHeader): WireOut {
  const out: WireOut = {};
  if (h.clusterId !== 0n) out.cluster_id = int64ToWire(h.clusterId);
  if (h.memberId !== 0n) out.member_id = int64ToWire(h.memberId);
  if (h.revision !== 0n) out.revision = int64ToWire(h.revision);
  if (h.raftTerm !== 0n) out.raft_term = int64ToWire(h.raftTerm);
  return out;
}

/** A header without revision (MemberList and the other member calls). */
export function headerWithoutRevisionToWire(h: ResponseHeader): WireOut {
  return headerToWire({ ...h, revision: 0n });
}

/** The header inside a nested ResponseOp carries only the revision. */
function revisionOnlyHeader(revision: bigint): WireOut {
  return revision === 0n ? {} : { revision: int64ToWire(revision) };
}

export function keyValueToWire(kv: KeyValue): WireOut {
  const out: WireOut = {};
  if (kv.key.length > 0) out.key = kv.key;
  if (kv.createRevision !== 0n) out.create_revision = int64ToWire(kv.createRevision);
  if (kv.modRevision !== 0n) out.mod_revision = int64ToWire(kv.modRevision);
  if (kv.version !== 0n) out.version = int64ToWire(kv.version);
  if (kv.value.length > 0) out.value = kv.value;
  if (kv.lease !== 0n) out.lease = int64ToWire(kv.lease);
  return out;
}

export function eventToWire(e: Event, withPrevKv: boolean): WireOut {
  const out: WireOut = { kv: keyValueToWire(e.kv) };
  if (e.type !== 0) out.type = e.type;
  if (withPrevKv && e.prevKv !== undefined) out.prev_kv = keyValueToWire(e.prevKv);
  return out;
}

function rangeBody(r: RangeResult, out: WireOut): WireOut {
  if (r.kvs.length > 0) out.kvs = r.kvs.map(keyValueToWire);
  if (r.more) out.more = true;
  if (r.count !== 0n) out.count = int64ToWire(r.count);
  return out;
}

function putBody(r: PutResult, out: WireOut): WireOut {
  if (r.prevKv !== undefined) out.prev_kv = keyValueToWire(r.prevKv);
  return out;
}

function deleteRangeBody(r: DeleteRangeResult, out: WireOut): WireOut {
  if (r.deleted !== 0n) out.deleted = int64ToWire(r.deleted);
  if (r.prevKvs.length > 0) out.prev_kvs = r.prevKvs.map(keyValueToWire);
  return out;
}

function txnBody(r: TxnResult, out: WireOut): WireOut {
  if (r.succeeded) out.succeeded = true;
  if (r.responses.length > 0) out.responses = r.responses.map(responseOpToWire);
  return out;
}

export function responseOpToWire(op: ResponseOp): WireOut {
  switch (op.kind) {
    case 'range': return { response_range: rangeBody(op.range, { header: revisionOnlyHeader(op.headerRevision) }) };
    case 'put': return { response_put: putBody(op.put, { header: revisionOnlyHeader(op.headerRevision) }) };
    case 'deleteRange':
      return { response_delete_range: deleteRangeBody(op.deleteRange, { header: revisionOnlyHeader(op.headerRevision) }) };
    // etcd leaves a nested txn's header empty.
    case 'txn': return { response_txn: txnBody(op.txn, { header: {} }) };
  }
}

export function rangeResponseToWire(h: ResponseHeader, r: RangeResult): WireOut {
  return rangeBody(r, { header: headerToWire(h) });
}

export function putResponseToWire(h: ResponseHeader, r: PutResult): WireOut {
  return putBody(r, { header: headerToWire(h) });
}

export function deleteRangeResponseToWire(h: ResponseHeader, r: DeleteRangeResult): WireOut {
  return deleteRangeBody(r, { header: headerToWire(h) });
}

export function txnResponseToWire(h: ResponseHeader, r: TxnResult): WireOut {
  return txnBody(r, { header: headerToWire(h) });
}

export function headerOnlyResponseToWire(h: ResponseHeader): WireOut {
  return { header: headerToWire(h) };
}
