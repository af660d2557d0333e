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
import type { AuthGate, AuthIdentity } from '../auth/auth-gate';
import type { Permission } from '../auth/permissions';

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

/**
 * etcdserverpb.Auth (etcd 3.4). Changes go through Raft; the header revision is the KV
 * revision (auth changes never move it). While auth is on, management needs the root role
 * of ctx.identity, except UserGet of oneself and RoleGet of one's own roles; ctx.identity
 * must have been resolved (the API does it from the `token` metadata).
 */
export interface AuthPort {
  authEnable(ctx: RequestContext): Promise<Answer<null>>;
  authDisable(ctx: RequestContext): Promise<Answer<null>>;
  /** The simple token for a correct name and password. */
  authenticate(name: string, password: string, ctx: RequestContext): Promise<Answer<string>>;
  userAdd(name: string, password: string, noPassword: boolean, ctx: RequestContext): Promise<Answer<null>>;
  /** The user's roles, sorted. */
  userGet(name: string, ctx: RequestContext): Promise<Answer<string[]>>;
  userList(ctx: RequestContext): Promise<Answer<string[]>>;
  userDelete(name: string, ctx: RequestContext): Promise<Answer<null>>;
  userChangePassword(name: string, password: string, ctx: RequestContext): Promise<Answer<null>>;
  userGrantRole(user: string, role: string, ctx: RequestContext): Promise<Answer<null>>;
  userRevokeRole(user: string, role: string, ctx: RequestContext): Promise<Answer<null>>;
  roleAdd(name: string, ctx: RequestContext): Promise<Answer<null>>;
  /** The role's permissions, sorted by key. */
  roleGet(role: string, ctx: RequestContext): Promise<Answer<Permission[]>>;
  roleList(ctx: RequestContext): Promise<Answer<string[]>>;
  roleDelete(role: string, ctx: RequestContext): Promise<Answer<null>>;
  roleGrantPermission(role: string, perm: Permission, ctx: RequestContext): Promise<Answer<null>>;
  roleRevokePermission(role: string, key: Buffer, rangeEnd: Buffer, ctx: RequestContext): Promise<Answer<null>>;
  /**
   * Resolves once the Authenticate entry that issued `token` is applied on this member
   * (bounded; at once if it cannot be pending). etcd waits like this before calling a token
   * invalid, so a token from one member works at once on another: on "invalid auth token",
   * await this and identify again.
   */
  tokenApplied(token: string, ctx: RequestContext): Promise<void>;
}

export interface MemberPort {
  kv: KvPort;
  lease: LeasePort;
  watch: WatchPort;
  cluster: ClusterPort;
  maintenance: MaintenancePort;
  /** Limits the API enforces before anything reaches Raft. */
  limits: { maxRequestBytes: number; maxTxnOps: number };
  /** etcdserverpb.Auth; absent = no auth store (Authenticate says auth is not enabled, the rest UNIMPLEMENTED). */
  auth?: AuthPort;
  /** Request checks against the auth store; absent = AUTH_DISABLED. */
  authGate?: AuthGate;
}
