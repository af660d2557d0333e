/**
 * The leader's view of one follower's log. States (as in etcd):
 * - probe: we do not know where the follower's log ends; send one append per heartbeat.
 * - replicate: follower is in sync; stream appends optimistically within the inflight window.
 * - snapshot: a snapshot is on its way; send nothing until it is reported.
 * Invariant: match < next.
 */
import { Inflights } from './inflights';
import { maxBigint, minBigint } from './messages';

export type ProgressState = 'probe' | 'replicate' | 'snapshot';

export class Progress {
  state: ProgressState = 'probe';
  /** In probe state: an append was sent and we wait for its answer (or a heartbeat response). */
  probeSent = false;
  /** In snapshot state: the index of the snapshot sent. */
  pendingSnapshot = 0n;
  /** Heard from since the last CheckQuorum round. */
  recentActive = false;
  readonly inflights: Inflights;

  constructor(
    public match: bigint,
    public next: bigint,
    maxInflight: number,
    public isLearner: boolean,
  ) {
    this.inflights = new Inflights(maxInflight);
  }

  private resetState(state: ProgressState): void {
    this.probeSent = false;
    this.pendingSnapshot = 0n;
    this.state = state;
    this.inflights.reset();
  }

  becomeProbe(): void {
    if (this.state === 'snapshot') {
      const pending = this.pendingSnapshot;
      this.resetState('probe');
      this.next = maxBigint(this.match + 1n, pending + 1n);
    } else {
      this.resetState('probe');
      this.next = this.match + 1n;
    }
  }

  becomeReplicate(): void {
    this.resetState('replicate');
    this.next = this.match + 1n;
  }

  becomeSnapshot(snapshotIndex: bigint): void {
    this.resetState('snapshot');
    this.pendingSnapshot = snapshotIndex;
  }

  /** An ack for index n arrived. Returns whether match advanced. */
  maybeUpdate(n: bigint): boolean {
    let updated = false;
    if (this.match < n) {
      this.match = n;
      updated = true;
      this.probeSent = false;
    }
    this.next = maxBigint(this.next, n + 1n);
    return updated;
  }

  /** Replicate state: entries up to n are on their way; send the next ones. */
  optimisticUpdate(n: bigint): void {
    this.next = n + 1n;
  }

  /**
   * The follower rejected an append at index `rejected`; `matchHint` is the highest index
   * that may still match. Returns false for a stale rejection.
   */
  maybeDecrTo(rejected: bigint, matchHint: bigint): boolean {
    if (this.state === 'replicate') {
      if (rejected <= this.match) return false; // stale
      this.next = this.match + 1n;
      return true;
    }
    if (this.next - 1n !== rejected) return false; // stale: not the probe we sent
    this.next = maxBigint(minBigint(rejected, matchHint + 1n), 1n);
    this.probeSent = false;
    return true;
  }

  isPaused(): boolean {
    switch (this.state) {
      case 'probe':
        return this.probeSent;
      case 'replicate':
        return this.inflights.full();
      case 'snapshot':
        return true;
    }
  }
}
