import { decodeInternalRequest, encodeInternalRequest, type InternalRequest } from '../api/codec/internal-request';
import { decodeAuthRequest, encodeAuthRequest } from '../auth/auth-request-codec';
import type { Proposal, RequestEnvelope } from './proposal';

/** A proposal as the bytes of one Raft entry (latchkeypb.InternalRequest). */
export function encodeRequest(envelope: RequestEnvelope): Uint8Array {
  const p = envelope.proposal;
  const id = envelope.requestId;
  switch (p.kind) {
    case 'leaseCheckpoint':
      return encodeInternalRequest({
        id,
        kind: 'leaseCheckpoint',
        checkpoints: p.checkpoints.map((c) => ({ id: c.leaseId, remainingTtlSeconds: c.remainingSeconds })),
      });
    case 'auth':
      return encodeAuthRequest(id, p.actor, p.request);
    default:
      return encodeInternalRequest(envelope.actor === undefined ? { id, ...p } : { id, actor: envelope.actor, ...p });
  }
}

/**
 * The KV/lease/member codec knows no auth fields and throws on them: only then (auth entries
 * are rare) is the entry decoded again as an auth request, so KV entries decode once.
 */
export function decodeRequest(data: Uint8Array): RequestEnvelope {
  let request: InternalRequest;
  try {
    request = decodeInternalRequest(data);
  } catch (err) {
    const auth = decodeAuthRequest(data);
    if (auth === undefined) throw err;
    return { requestId: auth.id, proposal: { kind: 'auth', request: auth.request, actor: auth.actor } };
  }
  const envelope: RequestEnvelope = { requestId: request.id, proposal: toProposal(request) };
  if (request.actor !== undefined) envelope.actor = request.actor;
  return envelope;
}

function toProposal(request: InternalRequest): Proposal {
  switch (request.kind) {
    case 'put': return { kind: 'put', put: request.put };
    case 'deleteRange': return { kind: 'deleteRange', deleteRange: request.deleteRange };
    case 'txn': return { kind: 'txn', txn: request.txn };
    case 'compaction': return { kind: 'compaction', compaction: request.compaction };
    case 'leaseGrant': return { kind: 'leaseGrant', leaseId: request.leaseId, ttlSeconds: request.ttlSeconds };
    case 'leaseRevoke': return { kind: 'leaseRevoke', leaseId: request.leaseId };
    case 'leaseCheckpoint':
      return {
        kind: 'leaseCheckpoint',
        checkpoints: request.checkpoints.map((c) => ({ leaseId: c.id, remainingSeconds: c.remainingTtlSeconds })),
      };
    case 'memberAttributes':
      return { kind: 'memberAttributes', memberId: request.memberId, name: request.name, clientUrls: request.clientUrls };
    case 'alarm': return { kind: 'alarm', action: request.action, memberId: request.memberId, alarm: request.alarm };
    case 'range':
      throw new Error(`a ${request.kind} request is not a proposal this member makes`);
  }
}
