import { messageType } from '../api/codec/proto-root';
import { hasField, int64ToWire, wireBool, wireBytes, wireEnum, wireString, wireUint64, type Wire, type WireOut } from '../api/codec/wire-scalars';
import type { AuthActor, AuthRequest } from './auth-requests';
import type { PermTypeValue } from './permissions';

/**
 * Auth proposals as latchkeypb.InternalRequest bytes, in the auth_* fields of the request
 * oneof (numbered as etcd's InternalRaftRequest). The header carries the proposer's user and
 * auth revision. Two fields are reused: AuthUserAdd/ChangePassword's `password` holds the
 * bcrypt hash, and Authenticate's `password` holds the simple token's random prefix.
 */

function requestToWire(request: AuthRequest): WireOut {
  switch (request.op) {
    case 'authEnable': return { auth_enable: {} };
    case 'authDisable': return { auth_disable: {} };
    case 'authenticate': return { authenticate: { name: request.name, password: request.tokenPrefix } };
    case 'userAdd':
      return { auth_user_add: { name: request.name, password: request.passwordHash, options: { no_password: request.noPassword } } };
    case 'userDelete': return { auth_user_delete: { name: request.name } };
    case 'userChangePassword': return { auth_user_change_password: { name: request.name, password: request.passwordHash } };
    case 'userGrantRole': return { auth_user_grant_role: { user: request.user, role: request.role } };
    case 'userRevokeRole': return { auth_user_revoke_role: { name: request.name, role: request.role } };
    case 'roleAdd': return { auth_role_add: { name: request.name } };
    case 'roleDelete': return { auth_role_delete: { role: request.role } };
    case 'roleGrantPermission':
      return {
        auth_role_grant_permission: {
          name: request.name,
          perm: { permType: request.perm.permType, key: request.perm.key, range_end: request.perm.rangeEnd },
        },
      };
    case 'roleRevokePermission':
      return { auth_role_revoke_permission: { role: request.role, key: request.key, range_end: request.rangeEnd } };
  }
}

export function encodeAuthRequest(id: bigint, actor: AuthActor, request: AuthRequest): Uint8Array {
  const wire = requestToWire(request);
  const header: WireOut = {};
  if (id !== 0n) header.ID = int64ToWire(id);
  if (actor.user !== '') header.username = actor.user;
  if (actor.authRevision !== 0n) header.auth_revision = int64ToWire(actor.authRevision);
  wire.header = header;
  return messageType('latchkeypb.InternalRequest').encode(wire).finish();
}

function requestFromWire(w: Wire): AuthRequest | undefined {
  if (hasField(w, 'auth_enable')) return { op: 'authEnable' };
  if (hasField(w, 'auth_disable')) return { op: 'authDisable' };
  if (hasField(w, 'authenticate')) return { op: 'authenticate', name: wireString(w.authenticate.name), tokenPrefix: wireString(w.authenticate.password) };
  if (hasField(w, 'auth_user_add')) {
    const r = w.auth_user_add;
    return { op: 'userAdd', name: wireString(r.name), passwordHash: wireString(r.password), noPassword: hasField(r, 'options') && wireBool(r.options.no_password) };
  }
  if (hasField(w, 'auth_user_delete')) return { op: 'userDelete', name: wireString(w.auth_user_delete.name) };
  if (hasField(w, 'auth_user_change_password')) {
    const r = w.auth_user_change_password;
    return { op: 'userChangePassword', name: wireString(r.name), passwordHash: wireString(r.password) };
  }
  if (hasField(w, 'auth_user_grant_role')) return { op: 'userGrantRole', user: wireString(w.auth_user_grant_role.user), role: wireString(w.auth_user_grant_role.role) };
  if (hasField(w, 'auth_user_revoke_role')) return { op: 'userRevokeRole', name: wireString(w.auth_user_revoke_role.name), role: wireString(w.auth_user_revoke_role.role) };
  if (hasField(w, 'auth_role_add')) return { op: 'roleAdd', name: wireString(w.auth_role_add.name) };
  if (hasField(w, 'auth_role_delete')) return { op: 'roleDelete', role: wireString(w.auth_role_delete.role) };
  if (hasField(w, 'auth_role_grant_permission')) {
    const r = w.auth_role_grant_permission;
    const perm: Wire = hasField(r, 'perm') ? r.perm : {};
    return {
      op: 'roleGrantPermission',
      name: wireString(r.name),
      perm: { permType: wireEnum<PermTypeValue>(perm.permType, 2), key: Buffer.from(wireBytes(perm.key)), rangeEnd: Buffer.from(wireBytes(perm.range_end)) },
    };
  }
  if (hasField(w, 'auth_role_revoke_permission')) {
    const r = w.auth_role_revoke_permission;
    return { op: 'roleRevokePermission', role: wireString(r.role), key: Buffer.from(wireBytes(r.key)), rangeEnd: Buffer.from(wireBytes(r.range_end)) };
  }
  return undefined;
}

/** The auth request in `bytes`, or undefined when the entry is not an auth request. */
export function decodeAuthRequest(bytes: Uint8Array): { id: bigint; actor: AuthActor; request: AuthRequest } | undefined {
  const w: Wire = messageType('latchkeypb.InternalRequest').decode(bytes);
  const request = requestFromWire(w);
  if (request === undefined) return undefined;
  const header: Wire = hasField(w, 'header') ? w.header : {};
  return {
    id: wireUint64(header.ID),
    actor: { user: wireString(header.username), authRevision: wireUint64(header.auth_revision) },
    request,
  };
}
