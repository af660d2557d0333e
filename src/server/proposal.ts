import type { AlarmActionValue, AlarmTypeValue } from '../api/member-port';
import type { AuthActor, AuthRequest } from '../auth/auth-requests';
import type { CompactionRequest, DeleteRangeRequest, PutRequest, TxnRequest } from '../storage/mvcc/types';

/** A state change that goes through Raft. Every member applies it identically. */
export type Proposal =
  | { kind: 'put'; put: PutRequest }
  | { kind: 'deleteRange'; deleteRange: DeleteRangeRequest }
  | { kind: 'txn'; txn: TxnRequest }
  | { kind: 'compaction'; compaction: CompactionRequest }
  | { kind: 'leaseGrant'; leaseId: bigint; ttlSeconds: bigint }
  | { kind: 'leaseRevoke'; leaseId: bigint }
  | { kind: 'leaseCheckpoint'; checkpoints: LeaseCheckpoint[] }
  | { kind: 'memberAttributes'; memberId: bigint; name: string; clientUrls: string[] }
  | { kind: 'alarm'; action: AlarmActionValue; memberId: bigint; alarm: AlarmTypeValue }
  /** A user/role/auth change; `actor` is who asked (checked again at apply, as etcd does). */
  | { kind: 'auth'; request: AuthRequest; actor: AuthActor };

export interface LeaseCheckpoint {
  leaseId: bigint;
  remainingSeconds: bigint;
}

/** A proposal with the id its proposer waits on. */
export interface RequestEnvelope {
  requestId: bigint;
  proposal: Proposal;
  /**
   * Who asked, with the auth revision the API checked their permissions at (auth on only).
   * The applier refuses the write if auth changed since ("revision of auth store is old"),
   * so a permission revoked between the check and the apply never lets a write through.
   */
  actor?: { user: string; authRevision: bigint };
}
