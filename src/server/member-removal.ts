import type { Logger } from '../log';
import type { PeerTransport } from '../transport/types';
import type { Membership } from './membership';

export interface RemovalWatchDeps {
  membership: Membership;
  nowMs(): number;
  /** The leader this member knows now (0 for none). */
  leaderId(): bigint;
  electionTimeoutMs: number;
  /** The member's own logger (component "member"). */
  logger: Logger;
}

/**
 * Whether this member has been removed from the cluster, and telling the owner once it
 * has. Split out of member.ts because removal is learnt three ways (applying its own
 * RemoveNode, peers refusing it, or asking peers after a long leaderless spell) and the
 * bookkeeping for all three belongs together.
 */
export class RemovalWatch {
  private removedFromCluster = false;
  private leaderlessSinceMs: number | undefined;
  private removalCheckRunning = false;
  private onRemoved: (() => void) | undefined;

  constructor(private readonly deps: RemovalWatchDeps) {}

  /** Ticking starts leaderless; `onRemoved` is told when the member learns it was removed. */
  start(onRemoved: (() => void) | undefined): void {
    this.onRemoved = onRemoved;
    this.leaderlessSinceMs = this.deps.nowMs();
  }

  /** The member applied a conf change removing itself. */
  markRemoved(): void {
    this.removedFromCluster = true;
  }

  /** After a Ready is handled: a member that applied its own removal stops. */
  stopIfRemoved(): void {
    if (this.removedFromCluster) {
      this.deps.logger.warn('this member was removed from the cluster; stopping');
      this.onRemoved?.();
    }
  }

  /** The known leader changed to `lead` (0 for none): the leaderless spell starts or ends. */
  leaderChanged(lead: bigint): void {
    this.leaderlessSinceMs = lead === 0n ? this.deps.nowMs() : undefined;
  }

  /**
   * A member removed while it was cut off never applies its own removal: the leader stops
   * talking to it. After three election timeouts without a leader it asks its former peers;
   * if they no longer list it, it stops itself (etcd learns the same from its peers).
   */
  checkWhileLeaderless(selfId: bigint, transport: PeerTransport | undefined): void {
    const { membership, logger, electionTimeoutMs } = this.deps;
    const since = this.leaderlessSinceMs;
    if (since === undefined || transport === undefined || this.removalCheckRunning || this.removedFromCluster) return;
    if (this.deps.nowMs() - since < 3 * electionTimeoutMs) return;
    const urls = membership.peers().flatMap((m) => m.peerUrls);
    if (urls.length === 0) return;
    this.removalCheckRunning = true;
    transport
      .fetchClusterInfo(urls, AbortSignal.timeout(electionTimeoutMs))
      .then(({ clusterId, members }) => {
        if (clusterId === membership.clusterId && members.length > 0 && !members.some((m) => m.id === selfId)) {
          logger.warn('the cluster no longer lists this member; stopping');
          this.removedFromCluster = true;
          this.onRemoved?.();
        }
      })
      .catch((err: unknown) => logger.debug({ err }, 'asking peers about membership failed'))
      .finally(() => {
        this.removalCheckRunning = false;
        this.leaderlessSinceMs = this.deps.leaderId() === 0n ? this.deps.nowMs() : undefined;
      });
  }

  /** Peers refused this member as removed. */
  removedByPeers(): void {
    if (this.removedFromCluster) return;
    this.deps.logger.warn('peers say this member was removed from the cluster; stopping');
    this.removedFromCluster = true;
    this.onRemoved?.();
  }
}
