import type { Permission } from './permissions';

/**
 * The auth changes that go through Raft (etcd's Auth* entries of InternalRaftRequest).
 * Passwords never travel: UserAdd and UserChangePassword carry the bcrypt hash made by the
 * member that received the call, Authenticate carries only the token's random prefix (the
 * password was checked before proposing).
 */
export type AuthRequest =
  | { op: 'authEnable' }
  | { op: 'authDisable' }
  | { op: 'authenticate'; name: string; tokenPrefix: string }
  | { op: 'userAdd'; name: string; passwordHash: string; noPassword: boolean }
  | { op: 'userDelete'; name: string }
  | { op: 'userChangePassword'; name: string; passwordHash: string }
  | { op: 'userGrantRole'; user: string; role: string }
  | { op: 'userRevokeRole'; name: string; role: string }
  | { op: 'roleAdd'; name: string }
  | { op: 'roleDelete'; role: string }
  | { op: 'roleGrantPermission'; name: string; perm: Permission }
  | { op: 'roleRevokePermission'; role: string; key: Buffer; rangeEnd: Buffer };

export type AuthOp = AuthRequest['op'];

/** Who proposed an auth change: '' when the proposer had no identity (auth off). */
export interface AuthActor {
  user: string;
  authRevision: bigint;
}
