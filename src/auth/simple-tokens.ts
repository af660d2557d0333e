import * as crypto from 'node:crypto';

const LETTERS = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ';
const PREFIX_LENGTH = 16;
/** Above this many live tokens, an assign sweeps expired ones first (bounds memory between timer sweeps). */
const SWEEP_ABOVE = 10_000;
/** Hard bound on live tokens: past it the oldest-issued token is dropped (its holder re-authenticates). */
export const MAX_TOKENS = 100_000;

/** etcd's simple token prefix: 16 random ASCII letters (the ".<raft index>" is added at apply). */
export function newTokenPrefix(): string {
  let prefix = '';
  for (let i = 0; i < PREFIX_LENGTH; i++) prefix += LETTERS[crypto.randomInt(LETTERS.length)];
  return prefix;
}

/** `<prefix>.<index>`, as etcd's tokenSimple.assign builds it. */
export function simpleToken(prefix: string, index: bigint): string {
  return `${prefix}.${index.toString()}`;
}

/** The Raft index a simple token was issued at, or undefined if `token` is not `<16 letters>.<index>`. */
export function simpleTokenIndex(token: string): bigint | undefined {
  const match = /^[a-zA-Z]{16}\.(\d{1,20})$/.exec(token);
  return match === null ? undefined : BigInt(match[1]!);
}

interface TokenEntry {
  user: string;
  expiresAtMs: number;
}

/**
 * etcd's simple tokens: token → user, held in memory on every member (each applies the
 * Authenticate entry), never persisted. A token lives `ttlMs` after its last use; expired
 * tokens are dropped when looked up and by sweep(), which the owner runs on a timer.
 */
export class SimpleTokens {
  private readonly tokens = new Map<string, TokenEntry>();

  constructor(
    private readonly ttlMs: number,
    private readonly nowMs: () => number,
  ) {
    if (!(ttlMs > 0)) throw new Error(`token TTL must be positive, got ${ttlMs}`);
  }

  get size(): number {
    return this.tokens.size;
  }

  assign(token: string, user: string): void {
    if (this.tokens.size >= SWEEP_ABOVE) this.sweep();
    if (this.tokens.size >= MAX_TOKENS) {
      // Map iteration is insertion order: the first key is the oldest token.
      const oldest = this.tokens.keys().next();
      if (!oldest.done) this.tokens.delete(oldest.value);
    }
    this.tokens.set(token, { user, expiresAtMs: this.nowMs() + this.ttlMs });
  }

  /** The user behind a live token, refreshing its TTL (etcd's resetSimpleToken); undefined if unknown or expired. */
  use(token: string): string | undefined {
    const entry = this.tokens.get(token);
    if (entry === undefined) return undefined;
    const now = this.nowMs();
    if (entry.expiresAtMs <= now) {
      this.tokens.delete(token);
      return undefined;
    }
    entry.expiresAtMs = now + this.ttlMs;
    return entry.user;
  }

  /** Drops every token of `user` (etcd does on UserDelete and UserChangePassword). */
  invalidateUser(user: string): void {
    for (const [token, entry] of this.tokens) if (entry.user === user) this.tokens.delete(token);
  }

  /** Keeps only tokens whose user passes `keep` (after a snapshot replaced the users). */
  retainUsers(keep: (user: string) => boolean): void {
    for (const [token, entry] of this.tokens) if (!keep(entry.user)) this.tokens.delete(token);
  }

  clear(): void {
    this.tokens.clear();
  }

  sweep(): void {
    const now = this.nowMs();
    for (const [token, entry] of this.tokens) if (entry.expiresAtMs <= now) this.tokens.delete(token);
  }
}
