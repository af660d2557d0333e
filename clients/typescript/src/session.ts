import { EventEmitter } from 'node:events';
import type { Client } from './client';
import type { LeaseLostError } from './errors';
import type { Lease } from './lease';

export interface SessionOptions {
  /** Lease TTL (default 60, as Go's concurrency.NewSession). */
  ttlSeconds?: number;
  /** Use this existing lease instead of granting one (it is kept alive from now on). */
  leaseId?: bigint;
}

export const DEFAULT_SESSION_TTL_SECONDS = 60;

/**
 * A lease kept alive for as long as the holder lives (Go: concurrency.Session). Locks and
 * election candidacies made through it vanish with its lease. Emits `expired`
 * (LeaseLostError) once the lease is lost; `done` resolves then.
 */
export class Session extends EventEmitter {
  private constructor(
    readonly client: Client,
    readonly lease: Lease,
  ) {
    super();
    lease.once('lost', (error: LeaseLostError) => this.emit('expired', error));
  }

  static async create(client: Client, options: SessionOptions = {}): Promise<Session> {
    const ttlSeconds = options.ttlSeconds ?? DEFAULT_SESSION_TTL_SECONDS;
    if (!(ttlSeconds > 0)) throw new Error(`Session: ttlSeconds must be positive, got ${ttlSeconds}`);
    const lease =
      options.leaseId !== undefined ? client.leases.attach(options.leaseId, ttlSeconds) : await client.lease(ttlSeconds);
    return new Session(client, lease);
  }

  get leaseId(): bigint {
    return this.lease.id;
  }

  get isExpired(): boolean {
    return this.lease.isLost;
  }

  /** Resolves once the lease is lost (expired, revoked or closed). */
  get done(): Promise<LeaseLostError> {
    return this.lease.whenLost;
  }

  /** Revokes the lease: every lock and candidacy of this session is released at once. */
  close(): Promise<void> {
    return this.lease.revoke();
  }

  /** Stops the keepalive without revoking (the lease expires by itself after its TTL). */
  orphan(): void {
    this.lease.release();
  }
}
