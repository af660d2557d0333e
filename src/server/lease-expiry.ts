import type { Logger } from '../log';
import type { Clock, Member } from './member';

/** etcd checks for expired leases every 500 ms and revokes at most 1000 per second. */
const CHECK_INTERVAL_MS = 500;
const MAX_REVOKES_PER_CHECK = 500;
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

  constructor(
    private readonly member: Member,
    private readonly clock: Clock,
    private readonly logger: Logger,
  ) {}

  start(): void {
    this.expiryTimer = setInterval(() => this.revokeExpired(), CHECK_INTERVAL_MS);
    this.checkpointTimer = setInterval(() => this.checkpoint(), CHECKPOINT_INTERVAL_MS);
  }

  stop(): void {
    if (this.expiryTimer !== undefined) clearInterval(this.expiryTimer);
    if (this.checkpointTimer !== undefined) clearInterval(this.checkpointTimer);
  }

  private context() {
    return { signal: new AbortController().signal, requireLeader: true };
  }

  private revokeExpired(): void {
    if (!this.member.isLeader()) return;
    const due = this.member.lessor.expired(this.clock.nowMs(), MAX_REVOKES_PER_CHECK);
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
