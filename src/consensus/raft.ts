/**
 * The Raft state machine (etcd-io/raft's raft.go): terms, votes, role transitions, message
 * sending and the role-independent part of step(). Role-specific handling lives in
 * step-leader.ts and step-follower.ts; configuration changes in conf-change.ts.
 * Pure: no I/O, no clock; outgoing messages accumulate in `msgs` for the caller.
 */
import { silentRaftLogger, validateConfig, type RaftConfig, type RaftLogger } from './config';
import { RaftLog } from './log';
import {
  MessageType,
  messageTypeName,
  newMessage,
  NONE,
  type Message,
  type RaftRole,
  type ReadState,
  type SoftState,
} from './messages';
import { handleVoteRequest, hup, stepTerm } from './election';
import { ReadOnly } from './read-only';
import { stepLeader } from './step-leader';
import { stepCandidate, stepFollower } from './step-follower';
import { ProgressTracker } from './tracker';
import { EntryType, type Entry, type HardState, type NodeId } from './types';
import { CompactedError, SnapshotTemporarilyUnavailableError, UnavailableError } from './errors';

export class Raft {
  readonly id: NodeId;
  term = 0n;
  vote: NodeId = NONE;
  lead: NodeId = NONE;
  state: RaftRole = 'follower';
  readonly raftLog: RaftLog;
  tracker: ProgressTracker;
  msgs: Message[] = [];
  readStates: ReadState[] = [];
  readOnly = new ReadOnly();
  /** ReadIndex requests received before this leader committed an entry of its term. */
  pendingReadIndexMessages: Message[] = [];
  /** Index of the last conf change proposed by this leader; none may be proposed until applied ≥ it. */
  pendingConfIndex = 0n;
  leadTransferee: NodeId = NONE;
  electionElapsed = 0;
  heartbeatElapsed = 0;
  randomizedElectionTimeout = 0;
  readonly electionTimeout: number;
  readonly heartbeatTimeout: number;
  readonly checkQuorum: boolean;
  readonly preVote: boolean;
  readonly maxMsgSize: number;
  readonly maxInflight: number;
  readonly maxUncommittedSize: number;
  /** Payload bytes of entries this leader appended that are not yet applied. */
  uncommittedSize = 0;
  /**
   * Leader: appends (new entries, a moved commit index) waiting to go to the followers at the
   * next Ready. etcd broadcasts once per proposal and per commit; gathered here, the
   * proposals and acks of one event-loop turn leave as one MsgApp per follower, and each
   * follower answers it with one ack (see flushAppends).
   */
  private appendsPending: 'none' | 'entries' | 'commit' = 'none';
  readonly logger: RaftLogger;
  private readonly random: () => number;

  constructor(config: RaftConfig) {
    validateConfig(config);
    this.id = config.id;
    this.electionTimeout = config.electionTicks;
    this.heartbeatTimeout = config.heartbeatTicks;
    this.checkQuorum = config.checkQuorum;
    this.preVote = config.preVote;
    this.maxMsgSize = config.maxEntriesBytesPerMessage;
    this.maxInflight = config.maxInflightMessages;
    this.maxUncommittedSize = config.maxUncommittedEntriesBytes ?? 0;
    this.random = config.random;
    this.logger = config.logger ?? silentRaftLogger;
    this.raftLog = new RaftLog(config.storage);
    const { hardState, confState } = config.storage.initialState();
    this.tracker = ProgressTracker.fromConfState(confState, this.maxInflight, this.raftLog.lastIndex() + 1n);
    if (hardState.term !== 0n || hardState.vote !== NONE || hardState.commit !== 0n) this.loadState(hardState);
    if (config.applied > 0n) this.raftLog.appliedTo(config.applied);
    this.becomeFollower(this.term, NONE);
    this.logger.info(
      { id: this.id, term: this.term, commit: this.raftLog.committed, applied: this.raftLog.applied, lastIndex: this.raftLog.lastIndex() },
      'raft: new node',
    );
  }

  private loadState(hs: HardState): void {
    if (hs.commit < this.raftLog.committed || hs.commit > this.raftLog.lastIndex()) {
      throw new Error(`raft: hard state commit ${hs.commit} out of range [${this.raftLog.committed}, ${this.raftLog.lastIndex()}]`);
    }
    this.raftLog.committed = hs.commit;
    this.term = hs.term;
    this.vote = hs.vote;
  }

  softState(): SoftState {
    return { lead: this.lead, state: this.state };
  }

  hardState(): HardState {
    return { term: this.term, vote: this.vote, commit: this.raftLog.committed };
  }

  /** Whether this node may become leader: a voter with no snapshot pending. */
  promotable(): boolean {
    return this.tracker.voters.has(this.id) && !this.raftLog.hasPendingSnapshot();
  }

  // ---- sending -------------------------------------------------------------------------

  send(m: Message): void {
    // A forwarded TransferLeader keeps its sender (the transferee); everything else is from us.
    if (m.from === NONE) m.from = this.id;
    if (m.type === MessageType.Vote || m.type === MessageType.VoteResp || m.type === MessageType.PreVote || m.type === MessageType.PreVoteResp) {
      // Vote messages carry the term they are for (the next term for PreVote).
      if (m.term === 0n) throw new Error(`term should be set when sending ${messageTypeName(m.type)}`);
    } else {
      if (m.term !== 0n) throw new Error(`term should not be set when sending ${messageTypeName(m.type)} (was ${m.term})`);
      // Forwarded proposals and read requests are local to the leader: they carry no term.
      if (m.type !== MessageType.Prop && m.type !== MessageType.ReadIndex) m.term = this.term;
    }
    this.msgs.push(m);
  }

  /** Sends an append (or a snapshot) to `to` if its progress allows. */
  maybeSendAppend(to: NodeId, sendIfEmpty: boolean): boolean {
    const pr = this.tracker.progress.get(to);
    if (!pr || pr.isPaused()) return false;
    let prevTerm: bigint;
    let entries: Entry[];
    try {
      prevTerm = this.raftLog.term(pr.next - 1n);
      entries = this.raftLog.entriesFrom(pr.next, this.maxMsgSize);
    } catch (err) {
      if (!(err instanceof CompactedError || err instanceof UnavailableError)) throw err;
      return this.sendSnapshot(to);
    }
    if (entries.length === 0 && !sendIfEmpty) return false;
    const m = newMessage({ type: MessageType.App, to, index: pr.next - 1n, logTerm: prevTerm, entries, commit: this.raftLog.committed });
    // A commit broadcast to a follower we replicate to: its answer would carry no news (the
    // entries before pr.next are answered by their own appends, which travel ahead of this one
    // on the same stream), so it is not asked for. If those were lost, the follower cannot
    // match this append and its rejection is answered as usual. Heartbeats prove it alive.
    if (entries.length === 0 && pr.state === 'replicate') m.commitOnly = true;
    if (entries.length > 0) {
      const last = entries[entries.length - 1].index;
      if (pr.state === 'replicate') {
        pr.optimisticUpdate(last);
        pr.inflights.add(last);
      } else if (pr.state === 'probe') {
        pr.probeSent = true;
      } else {
        throw new Error(`sending append in unhandled progress state ${pr.state}`);
      }
    }
    this.send(m);
    return true;
  }

  private sendSnapshot(to: NodeId): boolean {
    const pr = this.tracker.progress.get(to);
    if (!pr) return false;
    // Only send snapshots to a follower we have heard from recently.
    if (!pr.recentActive) return false;
    let snapshot;
    try {
      snapshot = this.raftLog.snapshot();
    } catch (err) {
      if (err instanceof SnapshotTemporarilyUnavailableError) return false;
      throw err;
    }
    if (snapshot.metadata.index === 0n) throw new Error('need non-empty snapshot');
    this.logger.debug({ id: this.id, to, index: snapshot.metadata.index }, 'raft: sending snapshot');
    pr.becomeSnapshot(snapshot.metadata.index);
    this.send(newMessage({ type: MessageType.Snap, to, snapshot }));
    return true;
  }

  sendAppend(to: NodeId): void {
    this.maybeSendAppend(to, true);
  }

  sendHeartbeat(to: NodeId, context: Uint8Array | undefined): void {
    const pr = this.tracker.progress.get(to);
    if (!pr) return;
    // A follower may not have the entries up to our commit yet; never make it commit past match.
    const commit = pr.match < this.raftLog.committed ? pr.match : this.raftLog.committed;
    this.send(newMessage({ type: MessageType.Heartbeat, to, commit, ...(context ? { context } : {}) }));
  }

  bcastAppend(): void {
    for (const id of this.tracker.progress.keys()) if (id !== this.id) this.sendAppend(id);
  }

  /** Leader: new entries to replicate; they go out with the next flushAppends (RawNode.ready). */
  appendEntriesLater(): void {
    if (this.appendsPending === 'none') this.appendsPending = 'entries';
  }

  /** Leader: the commit index moved; every follower hears of it at the next flushAppends. */
  broadcastCommitLater(): void {
    this.appendsPending = 'commit';
  }

  get hasPendingAppends(): boolean {
    return this.appendsPending !== 'none';
  }

  /**
   * Sends what appendEntriesLater / broadcastCommitLater asked for: to each follower the
   * entries it lacks (as many messages as its in-flight window and the message size allow),
   * or, when only the commit index moved, the empty append that carries it (etcd's
   * bcastAppend). Every MsgApp carries the current commit index.
   */
  flushAppends(): void {
    const pending = this.appendsPending;
    this.appendsPending = 'none';
    if (pending === 'none' || this.state !== 'leader') return;
    for (const id of this.tracker.progress.keys()) {
      if (id === this.id) continue;
      const sent = this.maybeSendAppend(id, false);
      if (!sent && pending === 'commit') this.sendAppend(id);
      for (let i = 0; sent && i < this.maxInflight && this.maybeSendAppend(id, false); i++);
    }
  }

  bcastHeartbeat(context?: Uint8Array): void {
    const ctx = context ?? this.readOnly.lastPendingRequestContext();
    for (const id of this.tracker.progress.keys()) if (id !== this.id) this.sendHeartbeat(id, ctx);
  }

  sendTimeoutNow(to: NodeId): void {
    this.send(newMessage({ type: MessageType.TimeoutNow, to }));
  }

  // ---- commit and append ---------------------------------------------------------------

  maybeCommit(): boolean {
    return this.raftLog.maybeCommit(this.tracker.committed(), this.term);
  }

  appendEntry(entries: Entry[]): void {
    let index = this.raftLog.lastIndex();
    const stamped = entries.map((e) => ({ ...e, term: this.term, index: ++index }));
    const last = this.raftLog.append(stamped);
    this.tracker.progress.get(this.id)?.maybeUpdate(last);
    // A single voter commits on append; otherwise this is a no-op until acks arrive.
    this.maybeCommit();
  }

  /**
   * Leader: admits entries if they fit the uncommitted-bytes bound. A leader with nothing
   * uncommitted always accepts, so one oversized proposal cannot wedge it.
   */
  increaseUncommittedSize(entries: Entry[]): boolean {
    const size = payloadSize(entries);
    if (this.maxUncommittedSize > 0 && this.uncommittedSize > 0 && size > 0 && this.uncommittedSize + size > this.maxUncommittedSize) {
      return false;
    }
    this.uncommittedSize += size;
    return true;
  }

  /** Entries were committed and applied: they no longer count as uncommitted. */
  reduceUncommittedSize(entries: Entry[]): void {
    if (this.uncommittedSize === 0) return; // follower, or nothing outstanding
    const size = payloadSize(entries);
    this.uncommittedSize = size > this.uncommittedSize ? 0 : this.uncommittedSize - size;
  }

  /** True once the leader has committed an entry of its own term (needed before ReadIndex). */
  committedEntryInCurrentTerm(): boolean {
    return this.raftLog.termOrZero(this.raftLog.committed) === this.term;
  }

  // ---- role transitions ----------------------------------------------------------------

  private reset(term: bigint): void {
    if (this.term !== term) {
      this.term = term;
      this.vote = NONE;
    }
    this.lead = NONE;
    this.electionElapsed = 0;
    this.heartbeatElapsed = 0;
    this.resetRandomizedElectionTimeout();
    this.abortLeaderTransfer();
    this.tracker.resetVotes();
    const last = this.raftLog.lastIndex();
    for (const [id, pr] of this.tracker.progress) {
      pr.match = id === this.id ? last : 0n;
      pr.next = last + 1n;
      pr.becomeProbe();
      pr.next = last + 1n;
      pr.recentActive = id === this.id;
    }
    this.pendingConfIndex = 0n;
    this.uncommittedSize = 0;
    this.appendsPending = 'none';
    this.readOnly = new ReadOnly();
    this.pendingReadIndexMessages = [];
  }

  private resetRandomizedElectionTimeout(): void {
    const r = this.random();
    if (!(r >= 0 && r < 1)) throw new Error(`random() must return a value in [0, 1), got ${r}`);
    this.randomizedElectionTimeout = this.electionTimeout + Math.floor(r * this.electionTimeout);
  }

  pastElectionTimeout(): boolean {
    return this.electionElapsed >= this.randomizedElectionTimeout;
  }

  abortLeaderTransfer(): void {
    this.leadTransferee = NONE;
  }

  becomeFollower(term: bigint, lead: NodeId): void {
    this.reset(term);
    this.lead = lead;
    this.state = 'follower';
    this.logger.debug({ id: this.id, term, lead }, 'raft: became follower');
  }

  becomeCandidate(): void {
    if (this.state === 'leader') throw new Error('invalid transition [leader -> candidate]');
    this.reset(this.term + 1n);
    this.vote = this.id;
    this.state = 'candidate';
    this.logger.debug({ id: this.id, term: this.term }, 'raft: became candidate');
  }

  becomePreCandidate(): void {
    if (this.state === 'leader') throw new Error('invalid transition [leader -> pre-candidate]');
    // Pre-candidates change neither term nor vote: the pre-vote may fail.
    this.tracker.resetVotes();
    this.lead = NONE;
    this.state = 'precandidate';
    this.logger.debug({ id: this.id, term: this.term }, 'raft: became pre-candidate');
  }

  becomeLeader(): void {
    if (this.state === 'follower') throw new Error('invalid transition [follower -> leader]');
    this.reset(this.term);
    this.lead = this.id;
    this.state = 'leader';
    this.tracker.progress.get(this.id)?.becomeReplicate();
    // Conservatively assume the uncommitted tail may hold a conf change.
    this.pendingConfIndex = this.raftLog.lastIndex();
    // An empty entry of our term lets us commit everything before it (§5.4.2).
    this.appendEntry([{ term: 0n, index: 0n, type: EntryType.Normal, data: new Uint8Array(0) }]);
    this.logger.info({ id: this.id, term: this.term }, 'raft: became leader');
  }

  /**
   * The transport knows `lead`'s process is gone (nothing listens on its peer port any
   * more): a follower stops waiting out a full election timeout for it. Its election timer
   * is put at the plain timeout, so it campaigns within the randomized remainder (as if the
   * leader had been silent for a whole timeout) and, no longer in the leader's lease, grants
   * votes to whichever survivor asks first. Safety never rests on timing: if the leader is
   * in fact alive, its next heartbeat resets the timer, and pre-vote keeps a campaign from
   * deposing it. Returns whether the timer moved.
   */
  leaderDown(lead: NodeId): boolean {
    if (this.state !== 'follower' || lead === NONE || this.lead !== lead) return false;
    if (this.electionElapsed >= this.electionTimeout) return false;
    this.electionElapsed = this.electionTimeout;
    return true;
  }

  // ---- ticks ---------------------------------------------------------------------------

  tick(): void {
    if (this.state === 'leader') this.tickHeartbeat();
    else this.tickElection();
  }

  private tickElection(): void {
    this.electionElapsed++;
    if (this.promotable() && this.pastElectionTimeout()) {
      this.electionElapsed = 0;
      this.step(newMessage({ type: MessageType.Hup, from: this.id }));
    }
  }

  private tickHeartbeat(): void {
    this.heartbeatElapsed++;
    this.electionElapsed++;
    if (this.electionElapsed >= this.electionTimeout) {
      this.electionElapsed = 0;
      if (this.checkQuorum) this.step(newMessage({ type: MessageType.CheckQuorum, from: this.id }));
      // A transfer that did not finish within an election timeout is abandoned.
      if (this.state === 'leader' && this.leadTransferee !== NONE) this.abortLeaderTransfer();
    }
    if (this.state !== 'leader') return;
    if (this.heartbeatElapsed >= this.heartbeatTimeout) {
      this.heartbeatElapsed = 0;
      this.step(newMessage({ type: MessageType.Beat, from: this.id }));
    }
  }

  // ---- step ----------------------------------------------------------------------------

  step(m: Message): void {
    if (!stepTerm(this, m)) return;
    switch (m.type) {
      case MessageType.Hup:
        hup(this, this.preVote ? 'prevote' : 'election');
        return;
      case MessageType.Vote:
      case MessageType.PreVote:
        handleVoteRequest(this, m);
        return;
      default:
        if (this.state === 'leader') stepLeader(this, m);
        else if (this.state === 'follower') stepFollower(this, m);
        else stepCandidate(this, m);
    }
  }
}

/** The data bytes of a batch of entries (what the uncommitted-size bound counts). */
export function payloadSize(entries: readonly Entry[]): number {
  let size = 0;
  for (const e of entries) size += e.data.length;
  return size;
}
