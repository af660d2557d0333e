/**
 * The contract between the auth store (src/auth, which owns users, roles, permissions and
 * tokens) and the API layer (src/api/auth-policy.ts, which decides what each RPC needs).
 * Every call is synchronous and local: users, roles and tokens are replicated state that
 * every member holds, so checking a request never waits on Raft.
 */

/** Who made a request, as resolved from its token or its client certificate's CN. */
export interface AuthIdentity {
  user: string;
  /** The auth store revision when the identity was resolved (etcd's AuthInfo.Revision). */
  authRevision: bigint;
}

export interface AuthGate {
  /** Whether auth is enabled (AuthEnable applied, AuthDisable not since). */
  enabled(): boolean;

  /**
   * The identity behind a request's credentials: `token` is the `token` gRPC metadata value
   * (the gateway passes the Authorization header here), `certCommonName` the CN of a client
   * certificate that the TLS layer verified. Returns null while auth is disabled and no token
   * is given. Throws etcd's errors:
   *  - a token that is not valid (unknown, expired): UNAUTHENTICATED "etcdserver: invalid auth
   *    token" — even while auth is disabled, as etcd does;
   *  - auth enabled, no token and no CN: INVALID_ARGUMENT "etcdserver: user name is empty".
   * A token wins over the certificate CN (etcd uses the CN only when no token is sent).
   */
  identify(token: string | undefined, certCommonName: string | undefined): AuthIdentity | null;

  /**
   * Throws PERMISSION_DENIED "etcdserver: permission denied" unless `identity` may read
   * (resp. write) every key of [key, rangeEnd) under etcd's range rules (empty rangeEnd =
   * the single key, "\0" = every key >= key). The root role may do anything.
   */
  checkRead(identity: AuthIdentity, key: Buffer, rangeEnd: Buffer): void;
  checkWrite(identity: AuthIdentity, key: Buffer, rangeEnd: Buffer): void;

  /** Throws PERMISSION_DENIED "etcdserver: permission denied" unless the user has the root role. */
  checkAdmin(identity: AuthIdentity): void;
}

/** The gate used while no auth store is wired (tests of the API layer alone): auth is off. */
export const AUTH_DISABLED: AuthGate = {
  enabled: () => false,
  identify: () => null,
  checkRead: () => undefined,
  checkWrite: () => undefined,
  checkAdmin: () => undefined,
};
