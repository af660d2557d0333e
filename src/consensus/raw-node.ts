/**
 * RawNode: the caller-facing handle on the Raft core (etcd's RawNode), for synchronous
 * storage. Usage by the member loop:
 *
 *   const storage = new MemoryStorage();          // new cluster: RawNode.bootstrap(storage, voters)
 *   const node = new RawNode({ id, storage, applied, random, electionTicks: 10, heartbeatTicks: 1, ... });
 *   every tick interval: node.tick();
 *   on a peer message:   node.step(message);
 *   loop while node.hasReady():
 *     const rd = node.ready();                // exactly one advance() per ready()
 *     persist rd.snapshot (storage.applySnapshot), rd.hardState and rd.entries durably
 *       (one fsync when rd.mustSync), then storage.setHardState / storage.append(rd.entries);
 *     send rd.messages;                       // only after persisting
 *     restore the state machine from rd.snapshot (if any), then
 *     apply rd.committedEntries in order;     // for EntryType.ConfChange entries:
 *       node.applyConfChange(decodeConfChange(entry.data));
 *     serve rd.readStates once applied ≥ readState.index;
 *     node.advance(rd);
 *
 * A MsgSnap in rd.messages carries storage.snapshot(); keep it recent (e.g. create one
 * after applying each conf change) so a new member finds itself in its ConfState, or
 * replace it with a fresh one before sending, as etcd's server does.
 *
 * Restart: fill MemoryStorage from the durable snapshot (applySnapshot), hard state
 * (setHardState) and entries (append), then construct RawNode with `applied` set to the
 * index the state machine has applied.
 */
import type { RaftConfig } from './config';
import { applyConfChange, encodeConfChange } from './conf-change';
import { ConfChangePendingError, ProposalDroppedError, StepLocalMessageError } from './errors';
import type { MemoryStorage } from './memory-storage';
import { isLocalMessage, isResponseMessage, MessageType, newMessage, NONE, type Message, type RaftRole, type ReadState, type SoftState } from './messages';
import type { ProgressState } from './progress';
import { Raft } from './raft';
import { EntryType, type ConfChange, type ConfState, type Entry, type HardState, type NodeId, type Snapshot } from './types';

export interface Ready {
  /** Present only when leader or role changed. */
  softState?: SoftState;
  /** Present only when changed; persist before sending messages. */
  hardState?: HardState;
  readStates: ReadState[];
  /** Append to stable storage before sending messages. */
  entries: Entry[];
  /** An incoming snapshot to persist and apply. */
  snapshot?: Snapshot;
  /** Committed entries to apply, in order (may overlap `entries`: persist first). */
  committedEntries: Entry[];
  messages: Message[];
  /** Whether hardState/entries must be fsynced before messages leave. */
  mustSync: boolean;
}

export interface ProgressStatus {
  match: bigint;
  next: bigint;
  state: ProgressState;
  isLearner: boolean;
}

export interface RaftStatus {
  id: NodeId;
  term: bigint;
  vote: NodeId;
  commit: bigint;
  applied: bigint;
  lead: NodeId;
  state: RaftRole;
  leadTransferee: NodeId;
  confState: ConfState;
  /** Leader only: its view of every member's log. */
  progress?: Map<NodeId, ProgressStatus>;
}

const sameHardState = (a: HardState, b: HardState): boolean => a.term === b.term && a.vote === b.vote && a.commit === b.commit;
const isEmptyHardState = (hs: HardState): boolean => hs.term === 0n && hs.vote === NONE && hs.commit === 0n;

export class RawNode {
  private readonly raft: Raft;
  private prevSoftState: SoftState;
  private prevHardState: HardState;
  /** A Ready was handed out and not yet advanced: the loop must finish it first. */
  private readyOutstanding = false;

  constructor(config: RaftConfig) {
    this.raft = new Raft(config);
    this.prevSoftState = this.raft.softState();
    this.prevHardState = this.raft.hardState();
  }

  /**
   * Prepares empty storage for a brand-new cluster whose initial voters are `voters`:
   * installs a snapshot at index 1, term 1 with that ConfState (empty data) and hard state
   * {term 1, commit 1}. Every initial member calls it with the same voters, so their logs
   * agree. The caller persists the returned snapshot and hard state durably (or calls
   * bootstrap again on a restart that finds nothing persisted). Members added later start
   * with empty storage and receive the configuration from the leader.
   */
  static bootstrap(storage: MemoryStorage, voters: NodeId[]): { snapshot: Snapshot; hardState: HardState } {
    if (voters.length === 0) throw new Error('raft: bootstrap needs at least one voter');
    if (storage.lastIndex() !== 0n) throw new Error('raft: cannot bootstrap non-empty storage');
    const snapshot: Snapshot = {
      metadata: { index: 1n, term: 1n, confState: { voters: [...voters], learners: [] } },
      data: new Uint8Array(0),
    };
    const hardState: HardState = { term: 1n, vote: NONE, commit: 1n };
    storage.applySnapshot(snapshot);
    storage.setHardState(hardState);
    return { snapshot, hardState };
  }

  /** Advances logical time by one tick (election / heartbeat timeouts count ticks). */
  tick(): void {
    this.raft.tick();
  }

  /** Starts an election now (or a pre-vote when preVote is on). */
  campaign(): void {
    this.raft.step(newMessage({ type: MessageType.Hup }));
  }

  /** Proposes data for the log. Throws ProposalDroppedError when there is no leader to take it. */
  propose(data: Uint8Array): void {
    this.raft.step(newMessage({ type: MessageType.Prop, from: this.raft.id, entries: [{ term: 0n, index: 0n, type: EntryType.Normal, data }] }));
  }

  /** Proposes one membership change. Throws ConfChangePendingError if this leader has one in flight. */
  proposeConfChange(cc: ConfChange): void {
    const r = this.raft;
    if (r.state === 'leader' && r.pendingConfIndex > r.raftLog.applied) throw new ConfChangePendingError();
    const entry: Entry = { term: 0n, index: 0n, type: EntryType.ConfChange, data: encodeConfChange(cc) };
    r.step(newMessage({ type: MessageType.Prop, from: r.id, entries: [entry] }));
  }

  /** Applies a committed conf change (call when applying its entry); returns the new ConfState. */
  applyConfChange(cc: ConfChange): ConfState {
    return applyConfChange(this.raft, cc);
  }

  /** Delivers a message from a peer. Proposals forwarded to a node that cannot take them are dropped. */
  step(message: Message): void {
    if (isLocalMessage(message.type)) throw new StepLocalMessageError();
    // Responses from members we do not track (e.g. just removed) are ignored.
    if (isResponseMessage(message.type) && !this.raft.tracker.progress.has(message.from)) return;
    try {
      this.raft.step(message);
    } catch (err) {
      if (err instanceof ProposalDroppedError) return; // the proposer times out and retries
      throw err;
    }
  }

  /** Requests a linearizable read point; the answer arrives in Ready.readStates with this context. */
  readIndex(context: Uint8Array): void {
    this.raft.step(newMessage({ type: MessageType.ReadIndex, context }));
  }

  /** Asks the leader to hand leadership to `to` (forwarded if we are a follower). */
  transferLeader(to: NodeId): void {
    this.raft.step(newMessage({ type: MessageType.TransferLeader, from: to }));
  }

  /** The transport failed to deliver to `id`: stop optimistic streaming to it. */
  reportUnreachable(id: NodeId): void {
    this.raft.step(newMessage({ type: MessageType.Unreachable, from: id }));
  }

  /** `id`'s process is known to be gone (connection refused): see Raft.leaderDown. */
  reportLeaderDown(id: NodeId): boolean {
    return this.raft.leaderDown(id);
  }

  /** The snapshot sent to `id` was delivered (ok) or failed. */
  reportSnapshot(id: NodeId, ok: boolean): void {
    this.raft.step(newMessage({ type: MessageType.SnapStatus, from: id, reject: !ok }));
  }

  hasReady(): boolean {
    const r = this.raft;
    const soft = r.softState();
    if (soft.lead !== this.prevSoftState.lead || soft.state !== this.prevSoftState.state) return true;
    const hs = r.hardState();
    if (!isEmptyHardState(hs) && !sameHardState(hs, this.prevHardState)) return true;
    if (r.raftLog.hasPendingSnapshot()) return true;
    if (r.hasPendingAppends) return true;
    if (r.msgs.length > 0 || r.raftLog.unstableEntries().length > 0 || r.raftLog.hasNextCommittedEntries()) return true;
    return r.readStates.length > 0;
  }

  /** Collects everything to persist, send and apply. Call advance(ready) when done. */
  ready(): Ready {
    if (this.readyOutstanding) throw new Error('raft: ready() called again before advance()');
    this.readyOutstanding = true;
    const r = this.raft;
    r.flushAppends();
    const entries = [...r.raftLog.unstableEntries()];
    const rd: Ready = {
      readStates: r.readStates,
      entries,
      committedEntries: r.raftLog.nextCommittedEntries(),
      messages: r.msgs,
      mustSync: false,
    };
    const soft = r.softState();
    if (soft.lead !== this.prevSoftState.lead || soft.state !== this.prevSoftState.state) {
      rd.softState = soft;
      this.prevSoftState = soft;
    }
    const hs = r.hardState();
    if (!sameHardState(hs, this.prevHardState)) rd.hardState = hs;
    const snapshot = r.raftLog.unstable.snapshot;
    if (snapshot) rd.snapshot = snapshot;
    rd.mustSync = entries.length > 0 || hs.term !== this.prevHardState.term || hs.vote !== this.prevHardState.vote;
    r.msgs = [];
    r.readStates = [];
    return rd;
  }

  /** The caller persisted, sent and applied everything in `rd`. */
  advance(rd: Ready): void {
    if (!this.readyOutstanding) throw new Error('raft: advance() without a preceding ready()');
    this.readyOutstanding = false;
    const r = this.raft;
    if (rd.hardState) this.prevHardState = rd.hardState;
    const lastApplied = rd.committedEntries[rd.committedEntries.length - 1];
    if (lastApplied) r.raftLog.appliedTo(lastApplied.index);
    else if (rd.snapshot) r.raftLog.appliedTo(rd.snapshot.metadata.index);
    r.reduceUncommittedSize(rd.committedEntries);
    const lastEntry = rd.entries[rd.entries.length - 1];
    if (lastEntry) r.raftLog.stableTo(lastEntry.index, lastEntry.term);
    if (rd.snapshot) r.raftLog.stableSnapTo(rd.snapshot.metadata.index);
  }

  /** The current term, without building a whole status (read for every response header). */
  term(): bigint {
    return this.raft.term;
  }

  /** The current role, without building a whole status. */
  role(): RaftStatus['state'] {
    return this.raft.state;
  }

  status(): RaftStatus {
    const r = this.raft;
    const status: RaftStatus = {
      id: r.id,
      term: r.term,
      vote: r.vote,
      commit: r.raftLog.committed,
      applied: r.raftLog.applied,
      lead: r.lead,
      state: r.state,
      leadTransferee: r.leadTransferee,
      confState: r.tracker.confState(),
    };
    if (r.state === 'leader') {
      status.progress = new Map();
      for (const [id, pr] of r.tracker.progress) status.progress.set(id, { match: pr.match, next: pr.next, state: pr.state, isLearner: pr.isLearner });
    }
    return status;
  }
}
