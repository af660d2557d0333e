import { EtcdError, Errors, GrpcCode } from '../errors';
import { PermType, RangePermissions, type Permission, type PermTypeValue } from './permissions';

/**
 * etcd 3.4's ErrNoPasswordUser: not in its gRPC error table, so clients see code UNKNOWN with
 * the auth package's own text (checked against etcd 3.4.23 with etcdctl).
 */
export function noPasswordUser(): EtcdError {
  return new EtcdError(GrpcCode.UNKNOWN, 'auth: authentication failed, password was given for no password user');
}

/** etcd's fixed names: user "root" must hold role "root" before auth can be enabled. */
export const ROOT_USER = 'root';
export const ROOT_ROLE = 'root';

export interface AuthUser {
  name: string;
  /** bcrypt hash; '' for a user added with no_password. */
  passwordHash: string;
  /** Sorted, no duplicates. */
  roles: string[];
  noPassword: boolean;
}

export interface AuthRole {
  name: string;
  /** Sorted by key (etcd's permSlice order). */
  permissions: Permission[];
}

interface StoredState {
  enabled: boolean;
  revision: string;
  users: AuthUser[];
  roles: Array<{ name: string; permissions: Array<{ permType: number; key: string; rangeEnd: string }> }>;
}

/** Inserts `value` into the sorted array `list` unless present; returns whether it was added. */
function insertSorted(list: string[], value: string): boolean {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (list[mid]! < value) lo = mid + 1;
    else hi = mid;
  }
  if (list[lo] === value) return false;
  list.splice(lo, 0, value);
  return true;
}

function byName(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * The replicated auth data (etcd's auth bucket): users, roles, the enabled flag and the
 * auth revision, changed only by applied requests so every member holds the same. Each
 * mutator checks exactly what etcd's authStore checks, in the same order, and throws etcd's
 * error; a mutator that throws changed nothing.
 */
export class AuthState {
  private readonly users = new Map<string, AuthUser>();
  private readonly roles = new Map<string, AuthRole>();
  private enabledFlag = false;
  /** etcd starts a fresh auth store at revision 1. */
  private rev = 1n;
  /** Merged permissions per user, dropped whenever users or roles change. */
  private readonly permCache = new Map<string, RangePermissions>();

  get enabled(): boolean {
    return this.enabledFlag;
  }

  get revision(): bigint {
    return this.rev;
  }

  user(name: string): AuthUser | undefined {
    return this.users.get(name);
  }

  role(name: string): AuthRole | undefined {
    return this.roles.get(name);
  }

  userNames(): string[] {
    return [...this.users.keys()].sort(byName);
  }

  roleNames(): string[] {
    return [...this.roles.keys()].sort(byName);
  }

  hasRootRole(userName: string): boolean {
    return this.users.get(userName)?.roles.includes(ROOT_ROLE) ?? false;
  }

  hasRole(userName: string, role: string): boolean {
    return this.users.get(userName)?.roles.includes(role) ?? false;
  }

  /** The user's merged permissions (etcd's rangePermCache); undefined for an unknown user. */
  permissionsOf(userName: string): RangePermissions | undefined {
    const user = this.users.get(userName);
    if (user === undefined) return undefined;
    let cached = this.permCache.get(userName);
    if (cached === undefined) {
      const all: Permission[] = [];
      for (const roleName of user.roles) all.push(...(this.roles.get(roleName)?.permissions ?? []));
      cached = RangePermissions.of(all);
      this.permCache.set(userName, cached);
    }
    return cached;
  }

  /** etcd: enabling twice is a no-op; needs user root holding role root; does not bump the revision. */
  enable(): void {
    if (this.enabledFlag) return;
    const root = this.users.get(ROOT_USER);
    if (root === undefined) throw Errors.rootUserNotExist();
    if (!root.roles.includes(ROOT_ROLE)) throw Errors.rootRoleNotExist();
    this.enabledFlag = true;
  }

  /** Returns whether anything changed (disabling a disabled store is a no-op). */
  disable(): boolean {
    if (!this.enabledFlag) return false;
    this.enabledFlag = false;
    this.commit();
    return true;
  }

  userAdd(name: string, passwordHash: string, noPassword: boolean): void {
    if (name.length === 0) throw Errors.userEmpty();
    if (this.users.has(name)) throw Errors.userAlreadyExists();
    this.users.set(name, { name, passwordHash: noPassword ? '' : passwordHash, roles: [], noPassword });
    this.commit();
  }

  userDelete(name: string): void {
    if (this.enabledFlag && name === ROOT_USER) throw Errors.invalidAuthMgmt();
    if (!this.users.delete(name)) throw Errors.userNotFound();
    this.commit();
  }

  userChangePassword(name: string, passwordHash: string): void {
    const user = this.users.get(name);
    if (user === undefined) throw Errors.userNotFound();
    this.users.set(name, { ...user, passwordHash });
    this.commit();
  }

  /** etcd lets role "root" be granted before it exists; granting a held role is a silent no-op. */
  userGrantRole(userName: string, role: string): void {
    const user = this.users.get(userName);
    if (user === undefined) throw Errors.userNotFound();
    if (role !== ROOT_ROLE && !this.roles.has(role)) throw Errors.roleNotFound();
    const roles = [...user.roles];
    if (!insertSorted(roles, role)) return;
    this.users.set(userName, { ...user, roles });
    this.commit();
  }

  userRevokeRole(userName: string, role: string): void {
    if (this.enabledFlag && userName === ROOT_USER && role === ROOT_ROLE) throw Errors.invalidAuthMgmt();
    const user = this.users.get(userName);
    if (user === undefined) throw Errors.userNotFound();
    if (!user.roles.includes(role)) throw Errors.roleNotGranted();
    this.users.set(userName, { ...user, roles: user.roles.filter((r) => r !== role) });
    this.commit();
  }

  roleAdd(name: string): void {
    if (name.length === 0) throw Errors.roleEmpty();
    if (this.roles.has(name)) throw Errors.roleAlreadyExists();
    this.roles.set(name, { name, permissions: [] });
    this.commit();
  }

  /** Deleting a role also takes it away from every user holding it. */
  roleDelete(name: string): void {
    if (this.enabledFlag && name === ROOT_ROLE) throw Errors.invalidAuthMgmt();
    if (!this.roles.delete(name)) throw Errors.roleNotFound();
    for (const user of this.users.values()) {
      if (user.roles.includes(name)) this.users.set(user.name, { ...user, roles: user.roles.filter((r) => r !== name) });
    }
    this.commit();
  }

  /**
   * etcd: the first permission whose key is >= the new key is updated in place when key and
   * range end are both equal (only the type changes); otherwise the permission is added and
   * the list re-sorted by key.
   */
  roleGrantPermission(name: string, perm: Permission): void {
    const role = this.roles.get(name);
    if (role === undefined) throw Errors.roleNotFound();
    const permissions = role.permissions.map((p) => ({ ...p }));
    const idx = permissions.findIndex((p) => Buffer.compare(p.key, perm.key) >= 0);
    const existing = idx < 0 ? undefined : permissions[idx];
    if (existing !== undefined && existing.key.equals(perm.key) && existing.rangeEnd.equals(perm.rangeEnd)) {
      existing.permType = perm.permType;
    } else {
      permissions.push({ permType: perm.permType, key: Buffer.from(perm.key), rangeEnd: Buffer.from(perm.rangeEnd) });
      permissions.sort((a, b) => Buffer.compare(a.key, b.key));
    }
    this.roles.set(name, { name, permissions });
    this.commit();
  }

  roleRevokePermission(name: string, key: Buffer, rangeEnd: Buffer): void {
    const role = this.roles.get(name);
    if (role === undefined) throw Errors.roleNotFound();
    const kept = role.permissions.filter((p) => !(p.key.equals(key) && p.rangeEnd.equals(rangeEnd)));
    if (kept.length === role.permissions.length) throw Errors.permissionNotGranted();
    this.roles.set(name, { name, permissions: kept });
    this.commit();
  }

  private commit(): void {
    this.rev += 1n;
    this.permCache.clear();
  }

  encode(): Buffer {
    const stored: StoredState = {
      enabled: this.enabledFlag,
      revision: this.rev.toString(),
      users: [...this.users.values()],
      roles: [...this.roles.values()].map((r) => ({
        name: r.name,
        permissions: r.permissions.map((p) => ({ permType: p.permType, key: p.key.toString('base64'), rangeEnd: p.rangeEnd.toString('base64') })),
      })),
    };
    return Buffer.from(JSON.stringify(stored));
  }

  /** The state stored by encode(); a fresh state for undefined (a store that never had auth). */
  static decode(bytes: Buffer | undefined): AuthState {
    const state = new AuthState();
    if (bytes === undefined || bytes.length === 0) return state;
    const stored = JSON.parse(bytes.toString('utf8')) as StoredState;
    state.enabledFlag = stored.enabled === true;
    state.rev = BigInt(stored.revision);
    for (const u of stored.users) {
      state.users.set(u.name, { name: u.name, passwordHash: u.passwordHash, roles: [...u.roles], noPassword: u.noPassword === true });
    }
    for (const r of stored.roles) {
      state.roles.set(r.name, {
        name: r.name,
        permissions: r.permissions.map((p) => ({
          permType: (p.permType === PermType.WRITE || p.permType === PermType.READWRITE ? p.permType : PermType.READ) as PermTypeValue,
          key: Buffer.from(p.key, 'base64'),
          rangeEnd: Buffer.from(p.rangeEnd, 'base64'),
        })),
      });
    }
    return state;
  }
}
