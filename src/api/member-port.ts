import type {
  CompactionRequest,
  DeleteRangeRequest,
  DeleteRangeResult,
  PutRequest,
  PutResult,
  RangeRequest,
  RangeResult,
  TxnRequest,
  TxnResult,
} from '../storage/mvcc/types';
import type { WatchResponseSink, WatchStream } from '../storage/mvcc/watch/types';
import type { AuthIdentity } from '../auth/auth-gate';

/**
 * What the gRPC layer needs from the member. The API decodes and validates wire input,
 * calls these, and encodes the answers; every EtcdError thrown here becomes etcd's status.
 */

export interface ResponseHeader {
  clusterId: bigint;
  memberId: bigint;
  revision: bigint;
  raftTerm: bigint;
}

export interface Answer<T> {
  header: ResponseHeader;
  result: T;
}

export interface RequestContext {
  /** Aborted when the client cancels or its deadline passes. */
  signal: AbortSignal;
  /** The `hasleader: true` metadata: fail with "no leader" rather than wait for one. */
  requireLeader: boolean;
  /**
   * Who sent the request, resolved by the API's auth policy from the `token` metadata or
   * the client certificate's CN: undefined when the policy did not resolve one (method not
   * checked), null when auth is off.
   */
  identity?: AuthIdentity | null;
}

export interface KvPort {
  range(req: RangeRequest, ctx: RequestContext): Promise<Answer<RangeResult>>;
  put(req: PutRequest, ctx: RequestContext): Promise<Answer<PutResult>>;
  deleteRange(req: DeleteRangeRequest, ctx: RequestContext): Promise<Answer<DeleteRangeResult>>;
  txn(req: TxnRequest, ctx: RequestContext): Promise<Answer<TxnResult>>;
  compact(req: CompactionRequest, ctx: RequestContext): Promise<Answer<null>>;
}

export interface LeaseGrantResult { id: bigint; ttlSeconds: bigint }
export interface LeaseKeepAliveResult { id: bigint; ttlSeconds: bigint }
export interface LeaseTimeToLiveResult {
  id: bigint;
  /** -1 for an unknown or expired lease. */
  ttlSeconds: bigint;
  grantedTtlSeconds: bigint;
  keys: Buffer[];
}

export interface LeasePort {
  grant(ttlSeconds: bigint, id: bigint, ctx: RequestContext): Promise<Answer<LeaseGrantResult>>;
  revoke(id: bigint, ctx: RequestContext): Promise<Answer<null>>;
  /** ttlSeconds 0 for an unknown or expired lease (not an error). */
  keepAlive(id: bigint, ctx: RequestContext): Promise<Answer<LeaseKeepAliveResult>>;
  timeToLive(id: bigint, withKeys: boolean, ctx: RequestContext): Promise<Answer<LeaseTimeToLiveResult>>;
  leases(ctx: RequestContext): Promise<Answer<bigint[]>>;
}

export interface WatchPort {
  openStream(sink: WatchResponseSink): WatchStream;
  /** cluster_id, member_id and raft_term for a watch response header. */
  headerFor(revision: bigint): ResponseHeader;
}

export interface MemberInfo {
  id: bigint;
  name: string;
  peerUrls: string[];
  clientUrls: string[];
  isLearner: boolean;
}

export interface ClusterPort {
  memberList(ctx: RequestContext): Promise<Answer<MemberInfo[]>>;
  memberAdd(peerUrls: string[], isLearner: boolean, ctx: RequestContext): Promise<Answer<{ member: MemberInfo; members: MemberInfo[] }>>;
  memberRemove(id: bigint, ctx: RequestContext): Promise<Answer<MemberInfo[]>>;
  memberUpdate(id: bigint, peerUrls: string[], ctx: RequestContext): Promise<Answer<MemberInfo[]>>;
  memberPromote(id: bigint, ctx: RequestContext): Promise<Answer<MemberInfo[]>>;
}

export interface StatusResult {
  version: string;
  dbSize: bigint;
  leader: bigint;
  raftIndex: bigint;
  raftTerm: bigint;
  raftAppliedIndex: bigint;
  errors: string[];
  dbSizeInUse: bigint;
  isLearner: boolean;
}

export const AlarmType = { NONE: 0, NOSPACE: 1, CORRUPT: 2 } as const;
export type AlarmTypeValue = (typeof AlarmType)[keyof typeof AlarmType];
export const AlarmAction = { GET: 0, ACTIVATE: 1, DEACTIVATE: 2 } as const;
export type AlarmActionValue = (typeof AlarmAction)[keyof typeof AlarmAction];
export interface AlarmMember { memberId: bigint; alarm: AlarmTypeValue }

export interface SnapshotChunk { remainingBytes: bigint; blob: Buffer }

export interface MaintenancePort {
  status(ctx: RequestContext): Promise<Answer<StatusResult>>;
  hash(ctx: RequestContext): Promise<Answer<number>>;
  hashKV(revision: bigint, ctx: RequestContext): Promise<Answer<{ hash: number; compactRevision: bigint }>>;
  /** The state machine image followed by its sha256, in chunks (etcdctl snapshot save). */
  snapshot(ctx: RequestContext): AsyncIterable<Answer<SnapshotChunk>>;
  alarm(action: AlarmActionValue, memberId: bigint, alarm: AlarmTypeValue, ctx: RequestContext): Promise<AlarmMember[]>;
  defragment(ctx: RequestContext): Promise<void>;
  moveLeader(targetId: bigint, ctx: RequestContext): Promise<void>;
}

export interface MemberPort {
  kv: KvPort;
  lease: LeasePort;
  watch: WatchPort;
  cluster: ClusterPort;
  maintenance: MaintenancePort;
  /** Limits the API enforces before anything reaches Raft. */
  limits: { maxRequestBytes: number; maxTxnOps: number };
}
