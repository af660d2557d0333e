import type { AuthGate, AuthIdentity } from '../auth/auth-gate';
import { asEmbeddedClientError } from '../concurrency';
import { EtcdError, Errors, GrpcCode } from '../errors';
import type { Credentials } from './call-credentials';
import { deleteRangeRequestFromWire, putRequestFromWire, rangeRequestFromWire, txnRequestFromWire } from './codec/kv-requests';
import { wireInt64, type Wire } from './codec/wire-scalars';
import type { MemberPort, RequestContext } from './member-port';
import { leaseKeysOf, Permissions } from './permissions';
import { validateDeleteRange, validatePut, validateRange, validateTxn } from './validate-kv';

/**
 * What every RPC needs from its caller when auth is enabled, as etcd 3.4 checks it
 * (etcdserver/v3_server.go, apply_auth.go, api/v3rpc/maintenance.go, watch.go, v3lock,
 * v3election). The hooks in unary-handler.ts (unary calls and server streams) and
 * watch-service.ts (each watch create) apply this table; nothing else decides access.
 * The checks themselves are in permissions.ts, the credentials in call-credentials.ts.
 */

export { credentialsOf, GATEWAY_CALL_METADATA, type Credentials } from './call-credentials';
export { leaseKeysOf, Permissions } from './permissions';


/** What a method's key check is prepared from. */
export interface CheckInput {
  request: Wire;
  member: MemberPort;
}

/** The permission checks of one decoded request (run once the caller is known). */
export type KeyCheck = (permissions: Permissions) => void | Promise<void>;

/**
 * What one method needs before its handler runs:
 * - nothing: credentials are not even looked at (etcd never calls AuthInfoFromCtx);
 * - valid-credentials: a token, if sent, must be valid; no credentials is fine (identity null);
 * - user: the identity is resolved ("user name is empty" without credentials while auth is on);
 *   the handler decides the rest from ctx.identity (the Auth service);
 * - admin: the caller must have the root role;
 * - maintenance-admin: the same, but failures are answered as etcd's authMaintenanceServer
 *   answers them: the auth package's own error, which grpc-go sends as UNKNOWN "auth: …";
 * - keys: `prepare` decodes and validates the request (etcd's gRPC layer validates before
 *   the server resolves the caller) and returns the checks of its key ranges;
 * - embedded: v3lock/v3election: valid-credentials, failures answered as etcd's embedded
 *   client answers (UNKNOWN); the inner KV/Lease/Watch calls are checked one by one with the
 *   caller's identity (authorized-member.ts).
 */
export type MethodNeed =
  | { kind: 'nothing' }
  | { kind: 'valid-credentials' }
  | { kind: 'user' }
  | { kind: 'admin' }
  | { kind: 'maintenance-admin' }
  | { kind: 'keys'; prepare: (input: CheckInput) => KeyCheck }
  | { kind: 'embedded' };

const NOTHING: MethodNeed = { kind: 'nothing' };
const VALID_CREDENTIALS: MethodNeed = { kind: 'valid-credentials' };
const USER: MethodNeed = { kind: 'user' };
const ADMIN: MethodNeed = { kind: 'admin' };
const MAINTENANCE_ADMIN: MethodNeed = { kind: 'maintenance-admin' };
const EMBEDDED: MethodNeed = { kind: 'embedded' };

/** The policy table: gRPC method ("Service/Method", as the handlers name them) → its need. */
export const AUTH_POLICY: Readonly<Record<string, MethodNeed>> = {
  // KV: etcd's gRPC layer validates first, then the server checks the ranges.
  'KV/Range': {
    kind: 'keys',
    prepare: ({ request }) => {
      const req = rangeRequestFromWire(request);
      validateRange(req);
      return (permissions) => permissions.read(req.key, req.rangeEnd);
    },
  },
  'KV/Put': {
    kind: 'keys',
    prepare: ({ request }) => {
      const req = putRequestFromWire(request);
      validatePut(req);
      return (permissions) => permissions.put(req);
    },
  },
  'KV/DeleteRange': {
    kind: 'keys',
    prepare: ({ request }) => {
      const req = deleteRangeRequestFromWire(request);
      validateDeleteRange(req);
      return (permissions) => permissions.deleteRange(req);
    },
  },
  'KV/Txn': {
    kind: 'keys',
    prepare: ({ request, member }) => {
      const req = txnRequestFromWire(request);
      validateTxn(req, member.limits.maxTxnOps);
      return (permissions) => permissions.txn(req);
    },
  },
  // A proposal: the token is resolved (an invalid one fails) but the applier checks nothing.
  'KV/Compact': VALID_CREDENTIALS,

  'Lease/LeaseGrant': VALID_CREDENTIALS,
  'Lease/LeaseRevoke': {
    kind: 'keys',
    prepare: ({ request }) => {
      const id = wireInt64(request.ID);
      return (permissions) => permissions.leaseRevoke(id);
    },
  },
  'Lease/LeaseTimeToLive': NOTHING,
  'Lease/LeaseLeases': NOTHING,
  'Lease/LeaseKeepAlive': NOTHING,

  'Cluster/MemberList': NOTHING,
  'Cluster/MemberAdd': ADMIN,
  'Cluster/MemberRemove': ADMIN,
  'Cluster/MemberUpdate': ADMIN,
  'Cluster/MemberPromote': ADMIN,

  'Maintenance/Status': NOTHING,
  'Maintenance/MoveLeader': NOTHING,
  'Maintenance/Alarm': VALID_CREDENTIALS,
  'Maintenance/Hash': MAINTENANCE_ADMIN,
  'Maintenance/HashKV': MAINTENANCE_ADMIN,
  'Maintenance/Snapshot': MAINTENANCE_ADMIN,
  'Maintenance/Defragment': MAINTENANCE_ADMIN,

  'Auth/Authenticate': NOTHING,
  'Auth/AuthEnable': USER,
  'Auth/AuthDisable': USER,
  'Auth/UserAdd': USER,
  'Auth/UserGet': USER,
  'Auth/UserList': USER,
  'Auth/UserDelete': USER,
  'Auth/UserChangePassword': USER,
  'Auth/UserGrantRole': USER,
  'Auth/UserRevokeRole': USER,
  'Auth/RoleAdd': USER,
  'Auth/RoleGet': USER,
  'Auth/RoleList': USER,
  'Auth/RoleDelete': USER,
  'Auth/RoleGrantPermission': USER,
  'Auth/RoleRevokePermission': USER,

  'Lock/Lock': EMBEDDED,
  'Lock/Unlock': EMBEDDED,
  'Election/Campaign': EMBEDDED,
  'Election/Proclaim': EMBEDDED,
  'Election/Leader': EMBEDDED,
  'Election/Resign': EMBEDDED,
  'Election/Observe': EMBEDDED,

  // Watch is checked per create request, in watch-service.ts (READ on the watched range).
  'Watch/Watch': NOTHING,
};

/**
 * How the handler of `method` may resolve its caller again later (v3lock/v3election run
 * many inner calls, each of which etcd resolves from the token afresh); undefined for others.
 */
export function resolverFor(gate: AuthGate, method: string, credentials: Credentials): (() => AuthIdentity | null) | undefined {
  if (needOf(method).kind !== 'embedded') return undefined;
  return () => resolvePresented(gate, credentials);
}

/** The need of `method`; a method missing from the table is a programming error. */
export function needOf(method: string): MethodNeed {
  const need = AUTH_POLICY[method];
  if (need === undefined) throw new Error(`no auth policy for ${method}`);
  return need;
}

/** What resolving a method's need produced: the identity for RequestContext.identity. */
export type Resolved = AuthIdentity | null | undefined;

/**
 * Applies `method`'s need to one call: resolves the caller and runs its checks. Returns
 * the identity to put in RequestContext.identity (undefined for unchecked methods), or a
 * promise of it when a check has to look something up (lease keys). Throws etcd's errors.
 * While auth is off and no token is sent, nothing is decoded or looked up.
 */
export function authorize(
  gate: AuthGate,
  member: MemberPort,
  method: string,
  request: Wire,
  credentials: Credentials,
  ctx: () => RequestContext,
): Resolved | Promise<Resolved> {
  const need = needOf(method);
  if (need.kind === 'nothing') return undefined;
  if (need.kind === 'embedded') {
    try {
      return resolvePresented(gate, credentials);
    } catch (err) {
      throw asEmbeddedClientError(err);
    }
  }
  if (need.kind === 'valid-credentials') return resolvePresented(gate, credentials);
  if (!gate.enabled() && credentials.token === undefined) return null;
  if (need.kind === 'maintenance-admin') {
    try {
      const identity = gate.identify(credentials.token, credentials.certCommonName);
      new Permissions(gate, identity, () => Promise.resolve([])).admin();
      return identity;
    } catch (err) {
      throw asAuthPackageError(err);
    }
  }
  const keyCheck = need.kind === 'keys' ? need.prepare({ request, member }) : undefined;
  const identity = gate.identify(credentials.token, credentials.certCommonName);
  if (need.kind === 'user') return identity;
  const permissions = new Permissions(gate, identity, (lease) => leaseKeysOf(member, lease, ctx()));
  if (keyCheck === undefined) {
    permissions.admin();
    return identity;
  }
  const checked = keyCheck(permissions);
  return checked === undefined ? identity : checked.then(() => identity);
}

/** etcd's auth package errors (auth/store.go), by the text of their gRPC counterparts. */
const AUTH_PACKAGE_MESSAGES: Readonly<Record<string, string>> = {
  'etcdserver: user name is empty': 'auth: user name is empty',
  'etcdserver: permission denied': 'auth: permission denied',
  'etcdserver: invalid auth token': 'auth: invalid auth token',
  'etcdserver: user name not found': 'auth: user not found',
  'etcdserver: revision of auth store is old': 'auth: revision in header is old',
};

/**
 * An auth failure as etcd's maintenance server returns it: the auth package's plain Go
 * error, not converted to a gRPC status, so grpc-go answers UNKNOWN with its text
 * (observed: Defragment by a non-root user → UNKNOWN "auth: permission denied").
 */
export function asAuthPackageError(err: unknown): unknown {
  if (!(err instanceof EtcdError)) return err;
  const message = AUTH_PACKAGE_MESSAGES[err.message];
  return message === undefined ? err : new EtcdError(GrpcCode.UNKNOWN, message);
}

/** A token (or CN), if presented, must be valid; none at all is allowed (identity null). */
export function resolvePresented(gate: AuthGate, credentials: Credentials): AuthIdentity | null {
  if (credentials.token !== undefined) return gate.identify(credentials.token, undefined);
  if (!gate.enabled()) return null;
  const cn = credentials.certCommonName;
  return cn === undefined ? null : gate.identify(undefined, cn);
}


/** grpc-go's names of the codes an auth check can fail with (status.Code.String()). */
const GO_CODE_NAMES: Readonly<Record<number, string>> = {
  [GrpcCode.UNKNOWN]: 'Unknown',
  [GrpcCode.INVALID_ARGUMENT]: 'InvalidArgument',
  [GrpcCode.PERMISSION_DENIED]: 'PermissionDenied',
  [GrpcCode.UNAUTHENTICATED]: 'Unauthenticated',
};

/** A failure as the Go status string etcd puts in a watch cancel_reason. */
export function goStatusString(err: EtcdError): string {
  return `rpc error: code = ${GO_CODE_NAMES[err.code] ?? `Code(${err.code})`} desc = ${err.message}`;
}

/** etcd's watch cancel_reason for a create without READ permission. */
export const WATCH_PERMISSION_DENIED_REASON = goStatusString(Errors.permissionDenied());

/**
 * Why the caller may not watch [key, rangeEnd), or undefined when it may: READ on the
 * range, checked with the stream's credentials at each create. The reason is the Go status
 * string of the failure, as etcd 3.4.23 answers (observed: no token → "rpc error: code =
 * InvalidArgument desc = etcdserver: user name is empty"). `key` is as sent (an empty key
 * means "\0", as etcd rewrites it).
 */
export function watchRefusal(gate: AuthGate, credentials: Credentials, key: Buffer, rangeEnd: Buffer): string | undefined {
  if (!gate.enabled() && credentials.token === undefined) return undefined;
  try {
    const identity = gate.identify(credentials.token, credentials.certCommonName);
    const permissions = new Permissions(gate, identity, () => Promise.resolve([]));
    permissions.read(key.length === 0 ? Buffer.from([0]) : key, rangeEnd);
    return undefined;
  } catch (err) {
    if (err instanceof EtcdError) return goStatusString(err);
    throw err;
  }
}
