import type { CompactionRequest, DeleteRangeRequest, PutRequest, RangeRequest, TxnRequest } from '../../storage/mvcc/types';
import type { AlarmActionValue, AlarmTypeValue } from '../member-port';
import {
  compactionRequestFromWire,
  compactionRequestToWire,
  deleteRangeRequestFromWire,
  deleteRangeRequestToWire,
  putRequestFromWire,
  putRequestToWire,
  rangeRequestFromWire,
  rangeRequestToWire,
  txnRequestFromWire,
  txnRequestToWire,
} from './kv-requests';
import { messageType } from './proto-root';
import { hasField, int64ToWire, wireEnum, wireInt64, wireUint64, type Wire, type WireOut } from './wire-scalars';

export interface LeaseCheckpoint {
  id: bigint;
  remainingTtlSeconds: bigint;
}

/**
 * What one Raft entry proposes (latchkeypb.InternalRequest, modelled on etcd's
 * InternalRaftRequest). `id` is the proposal id in the header, which the proposing member
 * uses to find the waiting client; lease ids are therefore named `leaseId`.
 */
export type InternalRequestBody =
  | { kind: 'range'; range: RangeRequest }
  | { kind: 'put'; put: PutRequest }
  | { kind: 'deleteRange'; deleteRange: DeleteRangeRequest }
  | { kind: 'txn'; txn: TxnRequest }
  | { kind: 'compaction'; compaction: CompactionRequest }
  | { kind: 'leaseGrant'; leaseId: bigint; ttlSeconds: bigint }
  | { kind: 'leaseRevoke'; leaseId: bigint }
  | { kind: 'leaseCheckpoint'; checkpoints: LeaseCheckpoint[] }
  | { kind: 'alarm'; action: AlarmActionValue; memberId: bigint; alarm: AlarmTypeValue }
  | { kind: 'memberAttributes'; memberId: bigint; name: string; clientUrls: string[] };

/**
 * `actor`: who made a KV or lease write while auth was on, and the auth revision their
 * permissions were checked at (header username / auth_revision, as etcd's RequestHeader).
 */
export type InternalRequest = { id: bigint; actor?: { user: string; authRevision: bigint } } & InternalRequestBody;

export type InternalRequestKind = InternalRequestBody['kind'];

function bodyToWire(req: InternalRequest): WireOut {
  switch (req.kind) {
    case 'range': return { range: rangeRequestToWire(req.range) };
    case 'put': return { put: putRequestToWire(req.put) };
    case 'deleteRange': return { delete_range: deleteRangeRequestToWire(req.deleteRange) };
    case 'txn': return { txn: txnRequestToWire(req.txn) };
    case 'compaction': return { compaction: compactionRequestToWire(req.compaction) };
    case 'leaseGrant': return { lease_grant: nonZero({ TTL: req.ttlSeconds, ID: req.leaseId }) };
    case 'leaseRevoke': return { lease_revoke: nonZero({ ID: req.leaseId }) };
    case 'leaseCheckpoint':
      return {
        lease_checkpoint: {
          checkpoints: req.checkpoints.map((c) => nonZero({ ID: c.id, remaining_TTL: c.remainingTtlSeconds })),
        },
      };
    case 'memberAttributes':
      return { member_attributes: { ID: int64ToWire(req.memberId), name: req.name, client_urls: req.clientUrls } };
    case 'alarm': {
      const alarm = nonZero({ memberID: req.memberId });
      if (req.action !== 0) alarm.action = req.action;
      if (req.alarm !== 0) alarm.alarm = req.alarm;
      return { alarm };
    }
  }
}

function nonZero(fields: Record<string, bigint>): WireOut {
  const out: WireOut = {};
  for (const name of Object.keys(fields)) {
    const value = fields[name]!;
    if (value !== 0n) out[name] = int64ToWire(value);
  }
  return out;
}

export function encodeInternalRequest(req: InternalRequest): Uint8Array {
  const wire = bodyToWire(req);
  const header: WireOut = req.id === 0n ? {} : { ID: int64ToWire(req.id) };
  if (req.actor !== undefined) {
    header.username = req.actor.user;
    if (req.actor.authRevision !== 0n) header.auth_revision = int64ToWire(req.actor.authRevision);
  }
  wire.header = header;
  return messageType('latchkeypb.InternalRequest').encode(wire).finish();
}

function bodyFromWire(w: Wire): InternalRequestBody {
  if (hasField(w, 'put')) return { kind: 'put', put: putRequestFromWire(w.put) };
  if (hasField(w, 'txn')) return { kind: 'txn', txn: txnRequestFromWire(w.txn) };
  if (hasField(w, 'delete_range')) return { kind: 'deleteRange', deleteRange: deleteRangeRequestFromWire(w.delete_range) };
  if (hasField(w, 'range')) return { kind: 'range', range: rangeRequestFromWire(w.range) };
  if (hasField(w, 'compaction')) return { kind: 'compaction', compaction: compactionRequestFromWire(w.compaction) };
  if (hasField(w, 'lease_grant')) {
    return { kind: 'leaseGrant', leaseId: wireInt64(w.lease_grant.ID), ttlSeconds: wireInt64(w.lease_grant.TTL) };
  }
  if (hasField(w, 'lease_revoke')) return { kind: 'leaseRevoke', leaseId: wireInt64(w.lease_revoke.ID) };
  if (hasField(w, 'lease_checkpoint')) {
    const list: Wire[] = Array.isArray(w.lease_checkpoint.checkpoints) ? w.lease_checkpoint.checkpoints : [];
    return {
      kind: 'leaseCheckpoint',
      checkpoints: list.map((c) => ({ id: wireInt64(c.ID), remainingTtlSeconds: wireInt64(c.remaining_TTL) })),
    };
  }
  if (hasField(w, 'alarm')) {
    return {
      kind: 'alarm',
      action: wireEnum<AlarmActionValue>(w.alarm.action, 2),
      memberId: wireUint64(w.alarm.memberID),
      alarm: wireEnum<AlarmTypeValue>(w.alarm.alarm, 2),
    };
  }
  if (hasField(w, 'member_attributes')) {
    const attrs = w.member_attributes;
    return {
      kind: 'memberAttributes',
      memberId: wireUint64(attrs.ID),
      name: typeof attrs.name === 'string' ? attrs.name : '',
      clientUrls: Array.isArray(attrs.client_urls) ? attrs.client_urls.map(String) : [],
    };
  }
  throw new Error('InternalRequest carries no known request kind');
}

/** Throws on bytes that are not an InternalRequest this version understands. */
export function decodeInternalRequest(bytes: Uint8Array): InternalRequest {
  const w: Wire = messageType('latchkeypb.InternalRequest').decode(bytes);
  const id = hasField(w, 'header') ? wireUint64(w.header.ID) : 0n;
  const user: unknown = hasField(w, 'header') ? w.header.username : undefined;
  if (typeof user === 'string' && user !== '') {
    return { id, actor: { user, authRevision: wireUint64(w.header.auth_revision) }, ...bodyFromWire(w) };
  }
  return { id, ...bodyFromWire(w) };
}
