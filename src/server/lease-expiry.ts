import type { Logger } from '../log';
import type { Clock, Member } from './member';

/**
 * etcd checks for expired leases every 500 ms, so a lease outlives its deadline by 250 ms on
 * average: for a lock holder's session that is that much longer before a waiter gets the
 * lock. Here the next check is set for the earliest deadline, checked at least this often
 * (a deadline can only come nearer by a grant or a promotion, both at least a TTL ahead)...
 */
const MAX_CHECK_INTERVAL_MS = 500;
/** ...and at most this often, so a spread of many deadlines does not become a busy loop. */
const MIN_CHECK_INTERVAL_MS = 20;
/** etcd revokes at most 1000 leases per second (leaseRevokeRate). */
const REVOKES_PER_SECOND = 1000;
/**
 * How often the leader records remaining TTLs through Raft. Shorter than etcd's 5-minute
 * default: lock holders care that a failover neither shortens nor lengthens their lease by
 * more than this.
 */
const CHECKPOINT_INTERVAL_MS = 5_000;
/** etcd batches at most 1000 checkpoints into one entry. */
const MAX_CHECKPOINTS_PER_ENTRY = 1_000;

/**
 * On the leader only: proposes the revocation of every lease past its deadline (a lease
 * being revoked is not proposed again until that proposal is answered), and checkpoints
 * remaining TTLs so the next leader continues from them.
 */
export class LeaseExpiry {
  private expiryTimer: NodeJS.Timeout | undefined;
  private checkpointTimer: NodeJS.Timeout | undefined;
  private readonly revoking = new Set<bigint>();
  private lastCheckMs: number | undefined;
  private stopped = false;

  constructor(
    private readonly member: Member,
    private readonly clock: Clock,
    private readonly logger: Logger,
  ) {}

  start(): void {
    this.stopped = false;
    this.scheduleCheck(MAX_CHECK_INTERVAL_MS);
    this.checkpointTimer = setInterval(() => this.checkpoint(), CHECKPOINT_INTERVAL_MS);
  }

  stop(): void {
    this.stopped = true;
    if (this.expiryTimer !== undefined) clearTimeout(this.expiryTimer);
    if (this.checkpointTimer !== undefined) clearInterval(this.checkpointTimer);
  }

  private scheduleCheck(delayMs: number): void {
    if (this.stopped) return;
    this.expiryTimer = setTimeout(() => {
      this.expiryTimer = undefined;
      const nowMs = this.clock.nowMs();
      this.revokeExpired(nowMs);
      const untilNext = this.member.lessor.nextExpiryAfter(nowMs) - nowMs;
      this.scheduleCheck(Math.max(MIN_CHECK_INTERVAL_MS, Math.min(MAX_CHECK_INTERVAL_MS, untilNext)));
    }, delayMs);
  }

  private context() {
    return { signal: new AbortController().signal, requireLeader: true };
  }

  private revokeExpired(nowMs: number): void {
    // etcd's revoke rate, spread over however long it has been since the last check.
    const sinceLastMs = this.lastCheckMs === undefined ? MAX_CHECK_INTERVAL_MS : Math.min(MAX_CHECK_INTERVAL_MS, Math.max(0, nowMs - this.lastCheckMs));
    this.lastCheckMs = nowMs;
    if (!this.member.isLeader()) return;
    const limit = Math.max(1, Math.floor((REVOKES_PER_SECOND * sinceLastMs) / 1000));
    const due = this.member.lessor.expired(nowMs, limit);
    for (const leaseId of due) {
      if (this.revoking.has(leaseId)) continue;
      this.revoking.add(leaseId);
      this.member
        .propose({ kind: 'leaseRevoke', leaseId }, this.context())
        .then(() => this.logger.debug({ lease: leaseId.toString(16) }, 'expired lease revoked'))
        .catch((err: unknown) => this.logger.warn({ err, lease: leaseId.toString(16) }, 'revoking an expired lease failed'))
        .finally(() => this.revoking.delete(leaseId));
    }
  }

  private checkpoint(): void {
    if (!this.member.isLeader()) return;
    const checkpoints = this.member.lessor.remainingForCheckpoint(this.clock.nowMs(), MAX_CHECKPOINTS_PER_ENTRY);
    if (checkpoints.length === 0) return;
    this.member
      .propose({ kind: 'leaseCheckpoint', checkpoints }, this.context())
      .catch((err: unknown) => this.logger.debug({ err }, 'lease checkpoint failed'));
  }
}
