import { Errors } from '../errors';
import type { Logger } from '../log';
import type { AuthGate, AuthIdentity } from './auth-gate';
import type { AuthActor, AuthRequest } from './auth-requests';
import { AuthState, noPasswordUser } from './auth-state';
import { SimpleTokens, simpleToken, simpleTokenIndex } from './simple-tokens';

/** The LMDB meta entry holding the auth state (written in the apply transaction). */
export const AUTH_META = 'auth';

/** What the auth store reads its persisted state from (the MVCC store). */
export interface AuthStateSource {
  getMeta(name: string): Buffer | undefined;
  /** The applied index the store's data reflects; it jumps when a snapshot replaces the data. */
  consistentIndex(): bigint;
}

/** Where an applied change is persisted (the apply batch's LMDB writer). */
export interface AuthStateSink {
  putMeta(name: string, value: Buffer): void;
}

export interface AuthStoreOptions {
  /** --auth-token-ttl: seconds an unused simple token lives. */
  tokenTtlSeconds: number;
  logger: Logger;
  nowMs?: () => number;
}

const MAX_SWEEP_INTERVAL_MS = 30_000;
/** Requests waiting for a token's Authenticate entry to apply here; more are not held. */
const MAX_TOKEN_WAITERS = 10_000;

interface IndexWaiter {
  index: bigint;
  release: () => void;
}

/**
 * etcd's auth store on one member: the replicated users/roles/flags (AuthState, persisted in
 * the apply transaction under AUTH_META, so snapshots and restarts carry it), the simple
 * tokens (memory only), and the AuthGate the API layer checks requests with.
 *
 * Changes arrive only through apply(); everything else reads. A snapshot install replaces
 * the MVCC data underneath: the store notices (the store's consistent index moved without an
 * apply) and reloads, and reload() may also be called directly.
 */
export class AuthStore implements AuthGate {
  private state: AuthState;
  private readonly tokens: SimpleTokens;
  private knownIndex: bigint;
  private sweeper: NodeJS.Timeout | undefined;
  private readonly logger: Logger;
  private indexWaiters: IndexWaiter[] = [];

  constructor(
    private readonly source: AuthStateSource,
    options: AuthStoreOptions,
  ) {
    const ttlMs = options.tokenTtlSeconds * 1000;
    this.logger = options.logger;
    this.tokens = new SimpleTokens(ttlMs, options.nowMs ?? Date.now);
    this.state = AuthState.decode(source.getMeta(AUTH_META));
    this.knownIndex = source.consistentIndex();
    this.sweeper = setInterval(() => this.tokens.sweep(), Math.min(ttlMs, MAX_SWEEP_INTERVAL_MS));
    this.sweeper.unref();
  }

  /** Stops the token sweeper. */
  close(): void {
    if (this.sweeper !== undefined) clearInterval(this.sweeper);
    this.sweeper = undefined;
    const waiters = this.indexWaiters;
    this.indexWaiters = [];
    for (const waiter of waiters) waiter.release();
  }

  /**
   * Re-reads the persisted state (after a snapshot install or restore). Tokens survive
   * unless auth is now off or their user is gone.
   */
  reload(): void {
    this.state = AuthState.decode(this.source.getMeta(AUTH_META));
    this.knownIndex = this.source.consistentIndex();
    if (!this.state.enabled) this.tokens.clear();
    else this.tokens.retainUsers((user) => this.state.user(user) !== undefined);
    this.logger.info({ enabled: this.state.enabled, authRevision: this.state.revision.toString() }, 'auth store reloaded');
  }

  /** The applier tells the store which index its data now reflects (after every batch). */
  noteApplied(): void {
    this.knownIndex = this.source.consistentIndex();
    if (this.indexWaiters.length === 0) return;
    const applied = this.knownIndex;
    const due = this.indexWaiters.filter((w) => w.index <= applied);
    if (due.length === 0) return;
    this.indexWaiters = this.indexWaiters.filter((w) => w.index > applied);
    for (const waiter of due) waiter.release();
  }

  /**
   * etcd's isValidSimpleToken waits until the entry that issued a token is applied locally,
   * so a token made on one member works at once on another. Resolves when `token`'s index is
   * applied here, or after `timeoutMs`, or at once when it cannot be pending (not a simple
   * token, or its index already applied). Never rejects.
   */
  tokenApplied(token: string, timeoutMs: number): Promise<void> {
    const index = simpleTokenIndex(token);
    if (index === undefined || index <= this.source.consistentIndex() || this.indexWaiters.length >= MAX_TOKEN_WAITERS) {
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const waiter: IndexWaiter = {
        index,
        release: () => {
          clearTimeout(timer);
          resolve();
        },
      };
      const timer = setTimeout(() => {
        this.indexWaiters = this.indexWaiters.filter((w) => w !== waiter);
        resolve();
      }, timeoutMs);
      this.indexWaiters.push(waiter);
    });
  }

  /** The replicated state, after reloading it if a snapshot replaced the data. */
  current(): AuthState {
    if (this.source.consistentIndex() !== this.knownIndex) this.reload();
    return this.state;
  }

  revision(): bigint {
    return this.current().revision;
  }

  // ---- apply (every member, same order, deterministic) ----

  /**
   * Applies one auth request at Raft index `index`, persisting the new state through `sink`.
   * Returns the token for Authenticate, else null. Throws etcd's error (nothing changed).
   */
  apply(request: AuthRequest, actor: AuthActor, index: bigint, sink: AuthStateSink): string | null {
    const state = this.current();
    if (request.op !== 'authenticate') this.checkAdminAtApply(state, actor);
    let token: string | null = null;
    switch (request.op) {
      case 'authEnable':
        state.enable();
        break;
      case 'authDisable':
        if (state.disable()) this.tokens.clear();
        break;
      case 'authenticate': {
        if (!state.enabled) throw Errors.authNotEnabled();
        const user = state.user(request.name);
        if (user === undefined) throw Errors.authFailed();
        if (user.noPassword) throw noPasswordUser();
        token = simpleToken(request.tokenPrefix, index);
        this.tokens.assign(token, request.name);
        return token;
      }
      case 'userAdd':
        state.userAdd(request.name, request.passwordHash, request.noPassword);
        break;
      case 'userDelete':
        state.userDelete(request.name);
        this.tokens.invalidateUser(request.name);
        break;
      case 'userChangePassword':
        state.userChangePassword(request.name, request.passwordHash);
        this.tokens.invalidateUser(request.name);
        break;
      case 'userGrantRole':
        state.userGrantRole(request.user, request.role);
        break;
      case 'userRevokeRole':
        state.userRevokeRole(request.name, request.role);
        break;
      case 'roleAdd':
        state.roleAdd(request.name);
        break;
      case 'roleDelete':
        state.roleDelete(request.role);
        break;
      case 'roleGrantPermission':
        state.roleGrantPermission(request.name, request.perm);
        break;
      case 'roleRevokePermission':
        state.roleRevokePermission(request.role, request.key, request.rangeEnd);
        break;
    }
    sink.putMeta(AUTH_META, state.encode());
    return token;
  }

  /** etcd's authApplierV3: management needs root while auth is on, judged at apply. */
  private checkAdminAtApply(state: AuthState, actor: AuthActor): void {
    if (!state.enabled) return;
    if (actor.user === '') throw Errors.userEmpty();
    if (state.user(actor.user) === undefined) throw Errors.userNotFound();
    if (!state.hasRootRole(actor.user)) throw Errors.permissionDenied();
  }

  // ---- AuthGate (synchronous, local) ----

  enabled(): boolean {
    return this.current().enabled;
  }

  identify(token: string | undefined, certCommonName: string | undefined): AuthIdentity | null {
    const state = this.current();
    if (token !== undefined && token !== '') {
      const user = this.tokens.use(token);
      if (user === undefined) throw Errors.invalidAuthToken();
      // etcd's tokenSimple.info: the revision is the store's at resolution time.
      return { user, authRevision: state.revision };
    }
    if (!state.enabled) return null;
    if (certCommonName !== undefined && certCommonName !== '') return { user: certCommonName, authRevision: state.revision };
    throw Errors.userEmpty();
  }

  checkRead(identity: AuthIdentity, key: Buffer, rangeEnd: Buffer): void {
    this.checkOp(identity, 'read', key, rangeEnd);
  }

  checkWrite(identity: AuthIdentity, key: Buffer, rangeEnd: Buffer): void {
    this.checkOp(identity, 'write', key, rangeEnd);
  }

  /**
   * etcd's IsAdminPermitted. Note: an identity naming a user that does not exist fails with
   * "user name not found", as etcd answers.
   */
  checkAdmin(identity: AuthIdentity): void {
    const state = this.current();
    this.checkAdminAtApply(state, { user: identity.user, authRevision: identity.authRevision });
  }

  /** etcd's isOpPermitted: old revisions are refused, root may do anything, else the merged ranges decide. */
  private checkOp(identity: AuthIdentity, type: 'read' | 'write', key: Buffer, rangeEnd: Buffer): void {
    const state = this.current();
    if (!state.enabled) return;
    if (identity.user === '' || identity.authRevision === 0n) throw Errors.userEmpty();
    if (identity.authRevision < state.revision) throw Errors.authOldRevision();
    if (state.user(identity.user) === undefined) throw Errors.permissionDenied();
    if (state.hasRootRole(identity.user)) return;
    const permissions = state.permissionsOf(identity.user);
    if (permissions === undefined || !permissions.allows(type, key, rangeEnd)) throw Errors.permissionDenied();
  }

  /** Whether `user` holds `role` (RoleGet of one's own role is allowed). */
  hasRole(user: string, role: string): boolean {
    return this.current().hasRole(user, role);
  }

  isRoot(user: string): boolean {
    return this.current().hasRootRole(user);
  }
}

/** Auth stores by the MVCC store they persist into, so the applier and the services share one. */
const storesByData = new WeakMap<object, AuthStore>();

/** Creates the auth store of `data` (the member's MVCC store) and registers it for authStoreOf(). */
export function attachAuthStore(data: AuthStateSource, options: AuthStoreOptions): AuthStore {
  const existing = storesByData.get(data);
  if (existing !== undefined) return existing;
  const store = new AuthStore(data, options);
  storesByData.set(data, store);
  return store;
}

/** The auth store attached to `data`, or a default one (300 s tokens) attached now. */
export function authStoreOf(data: AuthStateSource, logger: Logger): AuthStore {
  return storesByData.get(data) ?? attachAuthStore(data, { tokenTtlSeconds: 300, logger });
}
