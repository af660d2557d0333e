/**
 * Client-caused failures, each carrying the exact gRPC status code and message text that
 * etcd 3.4 returns for it (clients match on these strings). The API layer maps an
 * EtcdError to a gRPC status in one place; anything else thrown is a programmer error.
 */

/** gRPC status codes used by etcd's errors (numeric values from grpc's status.proto). */
export const GrpcCode = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  DATA_LOSS: 15,
  UNAUTHENTICATED: 16,
} as const;
export type GrpcCodeValue = (typeof GrpcCode)[keyof typeof GrpcCode];

export class EtcdError extends Error {
  constructor(
    readonly code: GrpcCodeValue,
    message: string,
  ) {
    super(message);
    this.name = 'EtcdError';
  }
}

function etcdError(code: GrpcCodeValue, message: string): () => EtcdError {
  return () => new EtcdError(code, message);
}

/** Factories, so every throw site gets a fresh stack but the same code and text. */
export const Errors = {
  emptyKey: etcdError(GrpcCode.INVALID_ARGUMENT, 'etcdserver: key is not provided'),
  keyNotFound: etcdError(GrpcCode.INVALID_ARGUMENT, 'etcdserver: key not found'),
  valueProvided: etcdError(GrpcCode.INVALID_ARGUMENT, 'etcdserver: value is provided'),
  leaseProvided: etcdError(GrpcCode.INVALID_ARGUMENT, 'etcdserver: lease is provided'),
  tooManyOps: etcdError(GrpcCode.INVALID_ARGUMENT, 'etcdserver: too many operations in txn request'),
  duplicateKey: etcdError(GrpcCode.INVALID_ARGUMENT, 'etcdserver: duplicate key given in txn request'),
  requestTooLarge: etcdError(GrpcCode.INVALID_ARGUMENT, 'etcdserver: request is too large'),
  compacted: etcdError(GrpcCode.OUT_OF_RANGE, 'etcdserver: mvcc: required revision has been compacted'),
  futureRevision: etcdError(GrpcCode.OUT_OF_RANGE, 'etcdserver: mvcc: required revision is a future revision'),
  noSpace: etcdError(GrpcCode.RESOURCE_EXHAUSTED, 'etcdserver: mvcc: database space exceeded'),
  leaseNotFound: etcdError(GrpcCode.NOT_FOUND, 'etcdserver: requested lease not found'),
  leaseExists: etcdError(GrpcCode.FAILED_PRECONDITION, 'etcdserver: lease already exists'),
  leaseTtlTooLarge: etcdError(GrpcCode.OUT_OF_RANGE, 'etcdserver: too large lease TTL'),
  memberNotFound: etcdError(GrpcCode.NOT_FOUND, 'etcdserver: member not found'),
  badMemberUrls: etcdError(GrpcCode.INVALID_ARGUMENT, 'etcdserver: given member URLs are invalid'),
  memberIdExists: etcdError(GrpcCode.FAILED_PRECONDITION, 'etcdserver: member ID already exist'),
  peerUrlExists: etcdError(GrpcCode.FAILED_PRECONDITION, 'etcdserver: Peer URLs already exists'),
  badLeaderTransferee: etcdError(GrpcCode.FAILED_PRECONDITION, 'etcdserver: bad leader transferee'),
  notLeader: etcdError(GrpcCode.FAILED_PRECONDITION, 'etcdserver: not leader'),
  noLeader: etcdError(GrpcCode.UNAVAILABLE, 'etcdserver: no leader'),
  leaderChanged: etcdError(GrpcCode.UNAVAILABLE, 'etcdserver: leader changed'),
  serverStopped: etcdError(GrpcCode.UNAVAILABLE, 'etcdserver: server stopped'),
  timeout: etcdError(GrpcCode.UNAVAILABLE, 'etcdserver: request timed out'),
  tooManyRequests: etcdError(GrpcCode.RESOURCE_EXHAUSTED, 'etcdserver: too many requests'),
  unhealthyCluster: etcdError(GrpcCode.UNAVAILABLE, 'etcdserver: unhealthy cluster'),
  notEnoughStartedMembers: etcdError(GrpcCode.FAILED_PRECONDITION, 'etcdserver: re-configuration failed due to not enough started members'),
  learnerNotSupported: etcdError(GrpcCode.UNAVAILABLE, 'etcdserver: rpc not supported for learner'),
  watchCanceled: etcdError(GrpcCode.CANCELLED, 'etcdserver: watch canceled'),
  electionNoLeader: etcdError(GrpcCode.UNKNOWN, 'election: no leader'),
  electionNotLeader: etcdError(GrpcCode.UNKNOWN, 'election: not leader'),
  leaderFieldMissing: etcdError(GrpcCode.UNKNOWN, '"leader" field must be provided'),
  // Auth (etcd's rpctypes ErrGRPC*; codes and texts from the error catalogue).
  userEmpty: etcdError(GrpcCode.INVALID_ARGUMENT, 'etcdserver: user name is empty'),
  userAlreadyExists: etcdError(GrpcCode.FAILED_PRECONDITION, 'etcdserver: user name already exists'),
  userNotFound: etcdError(GrpcCode.FAILED_PRECONDITION, 'etcdserver: user name not found'),
  roleAlreadyExists: etcdError(GrpcCode.FAILED_PRECONDITION, 'etcdserver: role name already exists'),
  roleNotFound: etcdError(GrpcCode.FAILED_PRECONDITION, 'etcdserver: role name not found'),
  roleEmpty: etcdError(GrpcCode.INVALID_ARGUMENT, 'etcdserver: role name is empty'),
  roleNotGranted: etcdError(GrpcCode.FAILED_PRECONDITION, 'etcdserver: role is not granted to the user'),
  permissionNotGranted: etcdError(GrpcCode.FAILED_PRECONDITION, 'etcdserver: permission is not granted to the role'),
  authFailed: etcdError(GrpcCode.INVALID_ARGUMENT, 'etcdserver: authentication failed, invalid user ID or password'),
  permissionDenied: etcdError(GrpcCode.PERMISSION_DENIED, 'etcdserver: permission denied'),
  authNotEnabled: etcdError(GrpcCode.FAILED_PRECONDITION, 'etcdserver: authentication is not enabled'),
  invalidAuthToken: etcdError(GrpcCode.UNAUTHENTICATED, 'etcdserver: invalid auth token'),
  invalidAuthMgmt: etcdError(GrpcCode.INVALID_ARGUMENT, 'etcdserver: invalid auth management'),
  authOldRevision: etcdError(GrpcCode.INVALID_ARGUMENT, 'etcdserver: revision of auth store is old'),
  rootUserNotExist: etcdError(GrpcCode.FAILED_PRECONDITION, 'etcdserver: root user does not exist'),
  rootRoleNotExist: etcdError(GrpcCode.FAILED_PRECONDITION, 'etcdserver: root user does not have root role'),
} as const;

/** Watch-create failures are not gRPC errors: they are canceled responses with a reason. */
export const WatchCancelReason = {
  emptyRange: 'mvcc: watcher range is empty',
  duplicateId: 'mvcc: duplicate watch ID provided on the WatchStream',
} as const;
