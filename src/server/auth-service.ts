import { Errors } from '../errors';
import type { Answer, AuthPort, RequestContext } from '../api/member-port';
import type { AuthIdentity } from '../auth/auth-gate';
import type { AuthActor, AuthRequest } from '../auth/auth-requests';
import type { AuthStore } from '../auth/auth-store';
import { noPasswordUser } from '../auth/auth-state';
import { hashPassword, passwordMatches } from '../auth/passwords';
import type { Permission } from '../auth/permissions';
import { newTokenPrefix } from '../auth/simple-tokens';
import type { Member } from './member';

/** etcd retries Authenticate while the auth revision moved under the password check; bounded here. */
const AUTHENTICATE_ATTEMPTS = 5;

/** How long a request with a not-yet-applied token waits for its Authenticate entry here. */
const TOKEN_APPLY_WAIT_MS = 5_000;

const NO_ACTOR: AuthActor = { user: '', authRevision: 0n };

/**
 * The member side of etcdserverpb.Auth. Changes are proposed through Raft (and checked again
 * at apply, as etcd's authApplierV3 does); reads wait for a linearizable read, then answer
 * from the local auth store. Passwords are hashed (or compared) here, before proposing, so
 * no plain password enters the log and apply stays cheap.
 */
export class AuthService implements AuthPort {
  constructor(
    private readonly member: Member,
    private readonly auth: AuthStore,
    private readonly bcryptCost: number,
  ) {}

  authEnable(ctx: RequestContext): Promise<Answer<null>> {
    return this.change({ op: 'authEnable' }, ctx);
  }

  authDisable(ctx: RequestContext): Promise<Answer<null>> {
    return this.change({ op: 'authDisable' }, ctx);
  }

  /**
   * etcd's order: auth on, user known and with a password, password right; then the token
   * is made by Raft. If the auth store changed while the password was checked, check again.
   */
  async authenticate(name: string, password: string, ctx: RequestContext): Promise<Answer<string>> {
    for (let attempt = 0; attempt < AUTHENTICATE_ATTEMPTS; attempt++) {
      const state = this.auth.current();
      if (!state.enabled) throw Errors.authNotEnabled();
      const checkedRevision = state.revision;
      const user = state.user(name);
      if (user === undefined) throw Errors.authFailed();
      if (user.noPassword) throw noPasswordUser();
      if (!(await passwordMatches(password, user.passwordHash))) throw Errors.authFailed();
      const request: AuthRequest = { op: 'authenticate', name, tokenPrefix: newTokenPrefix() };
      const { value } = await this.member.propose({ kind: 'auth', request, actor: NO_ACTOR }, ctx);
      if (this.auth.revision() === checkedRevision) return { header: this.member.header(), result: value as string };
    }
    throw Errors.authOldRevision();
  }

  async userAdd(name: string, password: string, noPassword: boolean, ctx: RequestContext): Promise<Answer<null>> {
    this.requireAdmin(ctx);
    if (name.length === 0) throw Errors.userEmpty();
    const passwordHash = noPassword ? '' : await hashPassword(password, this.bcryptCost);
    return this.change({ op: 'userAdd', name, passwordHash, noPassword }, ctx);
  }

  /** Root, or the user itself (etcd's authApplierV3.UserGet). */
  async userGet(name: string, ctx: RequestContext): Promise<Answer<string[]>> {
    const identity = identityOf(ctx);
    this.requireAdminUnless(ctx, identity !== null && identity.user === name);
    await this.member.linearizableRead(ctx);
    const user = this.auth.current().user(name);
    if (user === undefined) throw Errors.userNotFound();
    return { header: this.member.header(), result: [...user.roles] };
  }

  async userList(ctx: RequestContext): Promise<Answer<string[]>> {
    this.requireAdmin(ctx);
    await this.member.linearizableRead(ctx);
    return { header: this.member.header(), result: this.auth.current().userNames() };
  }

  userDelete(name: string, ctx: RequestContext): Promise<Answer<null>> {
    return this.change({ op: 'userDelete', name }, ctx);
  }

  async userChangePassword(name: string, password: string, ctx: RequestContext): Promise<Answer<null>> {
    this.requireAdmin(ctx);
    const passwordHash = await hashPassword(password, this.bcryptCost);
    return this.change({ op: 'userChangePassword', name, passwordHash }, ctx);
  }

  userGrantRole(user: string, role: string, ctx: RequestContext): Promise<Answer<null>> {
    return this.change({ op: 'userGrantRole', user, role }, ctx);
  }

  userRevokeRole(user: string, role: string, ctx: RequestContext): Promise<Answer<null>> {
    return this.change({ op: 'userRevokeRole', name: user, role }, ctx);
  }

  roleAdd(name: string, ctx: RequestContext): Promise<Answer<null>> {
    return this.change({ op: 'roleAdd', name }, ctx);
  }

  /** Root, or a holder of the role (etcd's authApplierV3.RoleGet). */
  async roleGet(role: string, ctx: RequestContext): Promise<Answer<Permission[]>> {
    const identity = identityOf(ctx);
    this.requireAdminUnless(ctx, identity !== null && this.auth.hasRole(identity.user, role));
    await this.member.linearizableRead(ctx);
    const found = this.auth.current().role(role);
    if (found === undefined) throw Errors.roleNotFound();
    return { header: this.member.header(), result: found.permissions.map((p) => ({ ...p })) };
  }

  async roleList(ctx: RequestContext): Promise<Answer<string[]>> {
    this.requireAdmin(ctx);
    await this.member.linearizableRead(ctx);
    return { header: this.member.header(), result: this.auth.current().roleNames() };
  }

  roleDelete(role: string, ctx: RequestContext): Promise<Answer<null>> {
    return this.change({ op: 'roleDelete', role }, ctx);
  }

  roleGrantPermission(role: string, perm: Permission, ctx: RequestContext): Promise<Answer<null>> {
    return this.change({ op: 'roleGrantPermission', name: role, perm }, ctx);
  }

  roleRevokePermission(role: string, key: Buffer, rangeEnd: Buffer, ctx: RequestContext): Promise<Answer<null>> {
    return this.change({ op: 'roleRevokePermission', role, key, rangeEnd }, ctx);
  }

  async tokenApplied(token: string, ctx: RequestContext): Promise<void> {
    if (ctx.signal.aborted) return;
    await this.auth.tokenApplied(token, TOKEN_APPLY_WAIT_MS);
  }

  /** Checked here to fail fast, and again at apply with the same rules. */
  private async change(request: AuthRequest, ctx: RequestContext): Promise<Answer<null>> {
    this.requireAdmin(ctx);
    const identity = identityOf(ctx);
    const actor: AuthActor = identity === null ? NO_ACTOR : { user: identity.user, authRevision: identity.authRevision };
    await this.member.propose({ kind: 'auth', request, actor }, ctx);
    return { header: this.member.header(), result: null };
  }

  private requireAdmin(ctx: RequestContext): void {
    if (!this.auth.enabled()) return;
    const identity = identityOf(ctx);
    if (identity === null) throw Errors.userEmpty();
    this.auth.checkAdmin(identity);
  }

  private requireAdminUnless(ctx: RequestContext, exempt: boolean): void {
    try {
      this.requireAdmin(ctx);
    } catch (err) {
      if (!exempt) throw err;
    }
  }
}

/** The caller's identity; an unresolved one (undefined) counts as none. */
function identityOf(ctx: RequestContext): AuthIdentity | null {
  return ctx.identity ?? null;
}
