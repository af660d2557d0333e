import type { Logger } from '../log';
import type { Clock, Member } from './member';

/** etcd checks for expired leases every 500 ms and revokes at most 1000 per second. */
const CHECK_INTERVAL_MS = 500;
const MAX_REVOKES_PER_CHECK = 500;

/**
 * On the leader only: proposes the revocation of every lease past its deadline. A lease
 * being revoked is not proposed again until that proposal is answered.
 */
export class LeaseExpiry {
  private timer: NodeJS.Timeout | undefined;
  private readonly revoking = new Set<bigint>();

  constructor(
    private readonly member: Member,
    private readonly clock: Clock,
    private readonly logger: Logger,
  ) {}

  start(): void {
    this.timer = setInterval(() => this.check(), CHECK_INTERVAL_MS);
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
  }

  private check(): void {
    if (!this.member.isLeader()) return;
    const due = this.member.lessor.expired(this.clock.nowMs(), MAX_REVOKES_PER_CHECK);
    for (const leaseId of due) {
      if (this.revoking.has(leaseId)) continue;
      this.revoking.add(leaseId);
      this.member
        .propose({ kind: 'leaseRevoke', leaseId }, { signal: new AbortController().signal, requireLeader: true })
        .then(() => this.logger.debug({ lease: leaseId.toString(16) }, 'expired lease revoked'))
        .catch((err: unknown) => this.logger.warn({ err, lease: leaseId.toString(16) }, 'revoking an expired lease failed'))
        .finally(() => this.revoking.delete(leaseId));
    }
  }
}
