/**
 * The current configuration (voters, learners) and the leader's Progress for every member.
 * Invariant: voters and learners are disjoint; progress has exactly their union as keys.
 */
import { Progress } from './progress';
import { majorityCommittedIndex, majorityVoteResult, type VoteResult } from './quorum';
import type { ConfState, NodeId } from './types';

export class ProgressTracker {
  readonly voters = new Set<NodeId>();
  readonly learners = new Set<NodeId>();
  readonly progress = new Map<NodeId, Progress>();
  readonly votes = new Map<NodeId, boolean>();

  constructor(readonly maxInflight: number) {}

  static fromConfState(cs: ConfState, maxInflight: number, nextIndex: bigint): ProgressTracker {
    const tracker = new ProgressTracker(maxInflight);
    for (const id of cs.voters) tracker.addVoter(id, nextIndex);
    for (const id of cs.learners) tracker.addLearner(id, nextIndex);
    return tracker;
  }

  addVoter(id: NodeId, nextIndex: bigint): void {
    if (id === 0n) throw new Error('node id 0 is reserved');
    this.learners.delete(id);
    this.voters.add(id);
    const pr = this.progress.get(id);
    if (pr) pr.isLearner = false;
    else this.progress.set(id, this.newProgress(nextIndex, false));
  }

  addLearner(id: NodeId, nextIndex: bigint): void {
    if (id === 0n) throw new Error('node id 0 is reserved');
    this.voters.delete(id);
    this.learners.add(id);
    const pr = this.progress.get(id);
    if (pr) pr.isLearner = true;
    else this.progress.set(id, this.newProgress(nextIndex, true));
  }

  remove(id: NodeId): void {
    this.voters.delete(id);
    this.learners.delete(id);
    this.progress.delete(id);
    this.votes.delete(id);
  }

  private newProgress(nextIndex: bigint, isLearner: boolean): Progress {
    const pr = new Progress(0n, nextIndex, this.maxInflight, isLearner);
    // A new member counts as active so CheckQuorum does not depose the leader at once.
    pr.recentActive = true;
    return pr;
  }

  confState(): ConfState {
    const sorted = (s: Set<NodeId>) => [...s].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    return { voters: sorted(this.voters), learners: sorted(this.learners) };
  }

  isSingleton(): boolean {
    return this.voters.size === 1;
  }

  committed(): bigint {
    return majorityCommittedIndex(this.voters, this.matchOf);
  }

  /** A voter's match index (0 if untracked); one bound function, not a closure per commit check. */
  private readonly matchOf = (id: NodeId): bigint => this.progress.get(id)?.match ?? 0n;

  resetVotes(): void {
    this.votes.clear();
  }

  /** Records the first vote from id (later ones are ignored). Learners' votes never count. */
  recordVote(id: NodeId, granted: boolean): void {
    if (!this.votes.has(id)) this.votes.set(id, granted);
  }

  tallyVotes(): { granted: number; rejected: number; result: VoteResult } {
    let granted = 0;
    let rejected = 0;
    for (const id of this.voters) {
      const v = this.votes.get(id);
      if (v === true) granted++;
      else if (v === false) rejected++;
    }
    return { granted, rejected, result: majorityVoteResult(this.voters, this.votes) };
  }

  /** Whether a quorum of voters was recently active (self counts as active). */
  quorumActive(self: NodeId): boolean {
    const active = new Map<NodeId, boolean>();
    for (const id of this.voters) {
      const pr = this.progress.get(id);
      if (pr) active.set(id, id === self || pr.recentActive);
    }
    return majorityVoteResult(this.voters, active) === 'won';
  }
}
