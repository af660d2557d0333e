import type { handleUnaryCall, Metadata, ServiceDefinition, UntypedServiceImplementation } from '@grpc/grpc-js';
import { EtcdError, GrpcCode } from '../errors';
import type { Logger } from '../log';
import { AUTH_DISABLED, type AuthGate, type AuthIdentity } from '../auth/auth-gate';
import type { Permission, PermTypeValue } from '../auth/permissions';
import { headerOnlyResponseToWire, headerToWire } from './codec/kv-responses';
import { hasField, wireBool, wireBytes, wireEnum, wireString, type Wire, type WireOut } from './codec/wire-scalars';
import type { AuthPort, MemberPort, RequestContext } from './member-port';
import type { DecodedRequest } from './method-codec';
import { unaryHandler } from './unary-handler';
import { unimplementedHandlers } from './unimplemented-service';

/** etcd's ErrGRPCAuthNotEnabled. */
export function authNotEnabled(): EtcdError {
  return new EtcdError(GrpcCode.FAILED_PRECONDITION, 'etcdserver: authentication is not enabled');
}

/**
 * The caller's token: the `token` metadata etcd clients send, else `authorization` (what the
 * HTTP gateway passes the Authorization header as; etcd's AuthInfoFromCtx reads both).
 */
function tokenOf(metadata: Metadata): string | undefined {
  for (const key of ['token', 'authorization']) {
    const values = metadata.get(key);
    if (values.length > 0) return String(values[0]);
  }
  return undefined;
}

type AuthRun = (w: Wire, ctx: RequestContext) => Promise<WireOut>;

/**
 * A unary handler that, unless the API's auth policy already resolved the caller
 * (ctx.identity set), resolves it from the `token` metadata with the gate, so management
 * calls are judged correctly either way. Authenticate resolves nothing (etcdctl sends no token).
 */
function authUnary(method: string, logger: Logger, auth: AuthPort, gate: AuthGate, resolve: boolean, run: AuthRun): handleUnaryCall<DecodedRequest, WireOut | Buffer> {
  return (call, callback) => {
    const token = tokenOf(call.metadata);
    const handler = unaryHandler(`Auth/${method}`, logger, async (w, ctx) => {
      if (resolve && ctx.identity === undefined) ctx.identity = await identifyWaitingForToken(auth, gate, token, ctx);
      return run(w, ctx);
    });
    handler(call, callback);
  };
}

/** gate.identify, but an unknown token is looked up again once its Authenticate entry is applied here. */
async function identifyWaitingForToken(auth: AuthPort, gate: AuthGate, token: string | undefined, ctx: RequestContext): Promise<AuthIdentity | null> {
  try {
    return gate.identify(token, undefined);
  } catch (err) {
    if (token === undefined || !(err instanceof EtcdError) || err.code !== GrpcCode.UNAUTHENTICATED) throw err;
    await auth.tokenApplied(token, ctx);
    return gate.identify(token, undefined);
  }
}

function permissionFromWire(w: Wire): Permission {
  const perm: Wire = hasField(w, 'perm') ? w.perm : {};
  return {
    permType: wireEnum<PermTypeValue>(perm.permType, 2),
    key: Buffer.from(wireBytes(perm.key)),
    rangeEnd: Buffer.from(wireBytes(perm.range_end)),
  };
}

function permissionToWire(p: Permission): WireOut {
  const out: WireOut = {};
  if (p.permType !== 0) out.permType = p.permType;
  if (p.key.length > 0) out.key = p.key;
  if (p.rangeEnd.length > 0) out.range_end = p.rangeEnd;
  return out;
}

function listResponse(field: string, header: WireOut, names: string[]): WireOut {
  const out: WireOut = { header };
  if (names.length > 0) out[field] = names;
  return out;
}

function handlers(auth: AuthPort, gate: AuthGate, logger: Logger): UntypedServiceImplementation {
  const unary = (method: string, run: AuthRun): handleUnaryCall<DecodedRequest, WireOut | Buffer> => authUnary(method, logger, auth, gate, true, run);
  return {
    AuthEnable: unary('AuthEnable', async (_w, ctx) => headerOnlyResponseToWire((await auth.authEnable(ctx)).header)),
    AuthDisable: unary('AuthDisable', async (_w, ctx) => headerOnlyResponseToWire((await auth.authDisable(ctx)).header)),
    Authenticate: authUnary('Authenticate', logger, auth, gate, false, async (w, ctx) => {
      const answer = await auth.authenticate(wireString(w.name), wireString(w.password), ctx);
      return { header: headerToWire(answer.header), token: answer.result };
    }),
    UserAdd: unary('UserAdd', async (w, ctx) => {
      const noPassword = hasField(w, 'options') && wireBool(w.options.no_password);
      return headerOnlyResponseToWire((await auth.userAdd(wireString(w.name), wireString(w.password), noPassword, ctx)).header);
    }),
    UserGet: unary('UserGet', async (w, ctx) => {
      const answer = await auth.userGet(wireString(w.name), ctx);
      return listResponse('roles', headerToWire(answer.header), answer.result);
    }),
    UserList: unary('UserList', async (_w, ctx) => {
      const answer = await auth.userList(ctx);
      return listResponse('users', headerToWire(answer.header), answer.result);
    }),
    UserDelete: unary('UserDelete', async (w, ctx) => headerOnlyResponseToWire((await auth.userDelete(wireString(w.name), ctx)).header)),
    UserChangePassword: unary('UserChangePassword', async (w, ctx) =>
      headerOnlyResponseToWire((await auth.userChangePassword(wireString(w.name), wireString(w.password), ctx)).header),
    ),
    UserGrantRole: unary('UserGrantRole', async (w, ctx) =>
      headerOnlyResponseToWire((await auth.userGrantRole(wireString(w.user), wireString(w.role), ctx)).header),
    ),
    UserRevokeRole: unary('UserRevokeRole', async (w, ctx) =>
      headerOnlyResponseToWire((await auth.userRevokeRole(wireString(w.name), wireString(w.role), ctx)).header),
    ),
    RoleAdd: unary('RoleAdd', async (w, ctx) => headerOnlyResponseToWire((await auth.roleAdd(wireString(w.name), ctx)).header)),
    RoleGet: unary('RoleGet', async (w, ctx) => {
      const answer = await auth.roleGet(wireString(w.role), ctx);
      const out: WireOut = { header: headerToWire(answer.header) };
      if (answer.result.length > 0) out.perm = answer.result.map(permissionToWire);
      return out;
    }),
    RoleList: unary('RoleList', async (_w, ctx) => {
      const answer = await auth.roleList(ctx);
      return listResponse('roles', headerToWire(answer.header), answer.result);
    }),
    RoleDelete: unary('RoleDelete', async (w, ctx) => headerOnlyResponseToWire((await auth.roleDelete(wireString(w.role), ctx)).header)),
    RoleGrantPermission: unary('RoleGrantPermission', async (w, ctx) =>
      headerOnlyResponseToWire((await auth.roleGrantPermission(wireString(w.name), permissionFromWire(w), ctx)).header),
    ),
    RoleRevokePermission: unary('RoleRevokePermission', async (w, ctx) => {
      const answer = await auth.roleRevokePermission(wireString(w.role), Buffer.from(wireBytes(w.key)), Buffer.from(wireBytes(w.range_end)), ctx);
      return headerOnlyResponseToWire(answer.header);
    }),
  };
}

/**
 * etcdserverpb.Auth: the 16 methods of etcd 3.4 (AuthStatus, 3.5-only, is answered
 * UNIMPLEMENTED elsewhere). A member without an auth store answers as latchkey did before
 * auth existed: Authenticate says auth is not enabled, the rest is UNIMPLEMENTED.
 */
export function authService(definition: ServiceDefinition, logger: Logger, member?: Pick<MemberPort, 'auth' | 'authGate'>): UntypedServiceImplementation {
  const auth = member?.auth;
  if (auth === undefined) {
    const others = Object.keys(definition).filter((name) => name !== 'Authenticate');
    return {
      ...unimplementedHandlers('etcdserverpb.Auth', definition, logger, others),
      Authenticate: unaryHandler('Auth/Authenticate', logger, () => Promise.reject(authNotEnabled())),
    };
  }
  const implementation = handlers(auth, member?.authGate ?? AUTH_DISABLED, logger);
  for (const name of Object.keys(definition)) {
    if (implementation[name] === undefined) throw new Error(`etcdserverpb.Auth/${name} has no handler`);
  }
  return implementation;
}
