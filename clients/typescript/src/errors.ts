import * as grpc from '@grpc/grpc-js';

/**
 * Every failure the client reports is a ClientError. Server errors keep etcd's exact
 * status message (`etcdserver: …`) and gRPC code, and are turned back into a typed class by
 * exact string match, as the Go client does.
 */
export class ClientError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** A failed RPC: the gRPC status code and etcd's status message. */
export class EtcdError extends ClientError {
  constructor(
    readonly code: grpc.status,
    readonly details: string,
  ) {
    super(details);
  }
}

export class KeyNotProvidedError extends EtcdError {}
export class CompactedError extends EtcdError {}
export class FutureRevisionError extends EtcdError {}
export class LeaseNotFoundError extends EtcdError {}
export class LeaseExistsError extends EtcdError {}
export class LeaseTtlTooLargeError extends EtcdError {}
export class TooManyOpsError extends EtcdError {}
export class DuplicateKeyError extends EtcdError {}
export class RequestTooLargeError extends EtcdError {}
export class NoLeaderError extends EtcdError {}
export class LeaderChangedError extends EtcdError {}
export class RequestTimedOutError extends EtcdError {}
export class PermissionDeniedError extends EtcdError {}
export class InvalidAuthTokenError extends EtcdError {}
export class AuthFailedError extends EtcdError {}
/** The server or every endpoint could not be reached (after retries). */
export class UnavailableError extends EtcdError {}

export const ETCD_MESSAGES = {
  keyNotProvided: 'etcdserver: key is not provided',
  compacted: 'etcdserver: mvcc: required revision has been compacted',
  futureRevision: 'etcdserver: mvcc: required revision is a future revision',
  leaseNotFound: 'etcdserver: requested lease not found',
  leaseExists: 'etcdserver: lease already exists',
  leaseTtlTooLarge: 'etcdserver: too large lease TTL',
  tooManyOps: 'etcdserver: too many operations in txn request',
  duplicateKey: 'etcdserver: duplicate key given in txn request',
  requestTooLarge: 'etcdserver: request is too large',
  noLeader: 'etcdserver: no leader',
  leaderChanged: 'etcdserver: leader changed',
  requestTimedOut: 'etcdserver: request timed out',
  serverStopped: 'etcdserver: server stopped',
  notCapable: 'etcdserver: not capable',
  unhealthyCluster: 'etcdserver: unhealthy cluster',
  learnerNotSupported: 'etcdserver: rpc not supported for learner',
  permissionDenied: 'etcdserver: permission denied',
  invalidAuthToken: 'etcdserver: invalid auth token',
  authFailed: 'etcdserver: authentication failed, invalid user ID or password',
} as const;

type EtcdErrorClass = new (code: grpc.status, details: string) => EtcdError;

const CLASS_BY_MESSAGE = new Map<string, EtcdErrorClass>([
  [ETCD_MESSAGES.keyNotProvided, KeyNotProvidedError],
  [ETCD_MESSAGES.compacted, CompactedError],
  [ETCD_MESSAGES.futureRevision, FutureRevisionError],
  [ETCD_MESSAGES.leaseNotFound, LeaseNotFoundError],
  [ETCD_MESSAGES.leaseExists, LeaseExistsError],
  [ETCD_MESSAGES.leaseTtlTooLarge, LeaseTtlTooLargeError],
  [ETCD_MESSAGES.tooManyOps, TooManyOpsError],
  [ETCD_MESSAGES.duplicateKey, DuplicateKeyError],
  [ETCD_MESSAGES.requestTooLarge, RequestTooLargeError],
  [ETCD_MESSAGES.noLeader, NoLeaderError],
  [ETCD_MESSAGES.leaderChanged, LeaderChangedError],
  [ETCD_MESSAGES.requestTimedOut, RequestTimedOutError],
  [ETCD_MESSAGES.permissionDenied, PermissionDeniedError],
  [ETCD_MESSAGES.invalidAuthToken, InvalidAuthTokenError],
  [ETCD_MESSAGES.authFailed, AuthFailedError],
]);

/** Server messages that mean "rejected before it was proposed": a mutation may be re-sent. */
const REJECTED_BEFORE_PROPOSAL = new Set<string>([
  ETCD_MESSAGES.noLeader,
  ETCD_MESSAGES.notCapable,
  ETCD_MESSAGES.unhealthyCluster,
  ETCD_MESSAGES.learnerNotSupported,
  ETCD_MESSAGES.serverStopped,
]);

/** Turns a grpc-js failure into the typed error for its exact etcd message. */
export function toEtcdError(error: unknown): EtcdError {
  if (error instanceof EtcdError) return error;
  const status = error as Partial<grpc.ServiceError>;
  const code = typeof status.code === 'number' ? status.code : grpc.status.UNKNOWN;
  const details = typeof status.details === 'string' ? status.details : String((error as Error)?.message ?? error);
  const known = CLASS_BY_MESSAGE.get(details);
  if (known !== undefined) return new known(code, details);
  if (code === grpc.status.UNAVAILABLE) return new UnavailableError(code, details);
  return new EtcdError(code, details);
}

/**
 * Whether a failed call may be sent again (to the same or another endpoint). Reads are
 * retried on any UNAVAILABLE. Mutations only when the request cannot have been applied:
 * the server rejected it before proposing, or the transport never reached a server
 * (grpc-js messages, which never start with "etcdserver:"). "leader changed" and
 * "request timed out" may have been applied and are not retried.
 */
export function isRetryable(error: EtcdError, idempotent: boolean): boolean {
  if (error.code !== grpc.status.UNAVAILABLE) return false;
  if (idempotent) return true;
  if (REJECTED_BEFORE_PROPOSAL.has(error.details)) return true;
  return !error.details.startsWith('etcdserver:') && isConnectFailure(error.details);
}

/** grpc-js wording for a call that never got a transport (nothing was sent). */
function isConnectFailure(details: string): boolean {
  return /No connection established|failed to connect|ECONNREFUSED|Connection refused|Waiting for LB pick/i.test(details);
}

/** Whether the error says the endpoint itself is unreachable, so the next one should be tried. */
export function isEndpointFailure(error: EtcdError): boolean {
  return error.code === grpc.status.UNAVAILABLE;
}

/** The client was closed; no more calls can be made. */
export class ClientClosedError extends ClientError {
  constructor() {
    super('client is closed');
  }
}

/** Why a lease is gone. */
export class LeaseLostError extends ClientError {
  constructor(
    readonly leaseId: bigint,
    readonly reason: 'expired' | 'revoked' | 'timeout',
  ) {
    super(`lease ${leaseId.toString(16)} lost: ${reason}`);
  }
}

/** A wait (lock, campaign) was aborted through its AbortSignal. */
export class AbortedError extends ClientError {
  constructor(readonly reason?: unknown) {
    super(`operation aborted${reason instanceof Error ? `: ${reason.message}` : ''}`);
  }
}

/** A wait (lock, campaign) ran past its timeoutMs. */
export class TimeoutError extends ClientError {
  constructor(readonly timeoutMs: number) {
    super(`operation timed out after ${timeoutMs} ms`);
  }
}

/** The session's lease is gone: anything held through it is lost. */
export class SessionExpiredError extends ClientError {
  constructor() {
    super('session expired');
  }
}

/** Mutex.tryLock found another holder (Go: concurrency.ErrLocked). */
export class LockedError extends ClientError {
  constructor(readonly lockName: string) {
    super('mutex: Locked by another session');
  }
}

/** The lock key vanished right after it was acquired (Go: "lock lost on init"). */
export class LockLostError extends ClientError {
  constructor(readonly key: string) {
    super(`lock lost on init: ${key}`);
  }
}

/** Election.leader() found no candidate (the server-side v3election text). */
export class NoElectionLeaderError extends ClientError {
  constructor() {
    super('election: no leader');
  }
}

/** Proclaim or resign by a session that is not the leader any more. */
export class NotElectionLeaderError extends ClientError {
  constructor() {
    super('election: not leader');
  }
}

/** The server canceled a watch; `compactRevision` is set when history was compacted. */
export class WatchCanceledError extends ClientError {
  constructor(
    readonly reason: string,
    readonly compactRevision: bigint,
  ) {
    super(compactRevision > 0n ? `${ETCD_MESSAGES.compacted} (compact revision ${compactRevision})` : `watch canceled: ${reason}`);
  }
}
