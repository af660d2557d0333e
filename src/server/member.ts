import { Errors } from '../errors';
import type { Logger } from '../log';
import { MemoryStorage, ProposalDroppedError, RawNode, type Ready } from '../consensus';
import { ConfChangeType, EntryType, type ConfState, type Entry } from '../consensus/types';
import type { RequestContext, ResponseHeader } from '../api/member-port';
import { Lessor } from '../lease/lessor';
import type { MvccStore } from '../storage/mvcc';
import type { Snapshotter } from '../storage/snap';
import type { Wal } from '../storage/wal';
import type { WatchHub } from '../storage/mvcc/watch';
import { Applier, type ApplyValue, type CommittedRequest } from './applier';
import type { OpenedStorage } from './bootstrap';
import type { MemberConfig } from './config';
import { decodeConfChange } from '../consensus';
import { IdGenerator } from './id-generator';
import { LinearizableReads } from './linearizable-reads';
import { decodeMembers, encodeMembers, Membership } from './membership';
import type { Proposal } from './proposal';
import { decodeRequest, encodeRequest } from './request-codec';
import { WaitRegistry } from './wait';

/** etcd's apply-wait bound: at most this many proposals wait; more get "too many requests". */
const MAX_PENDING_PROPOSALS = 50_000;
const SNAPSHOTS_KEPT = 5;

export interface Clock {
  nowMs(): number;
}

/**
 * One latchkey member: drives its Raft node (tick → ready → persist → send → apply →
 * advance), turns client writes into proposals and answers them when their entry is
 * applied, and serves linearizable reads by ReadIndex. Persist before speak: entries and
 * hard state are fsynced before any message that depends on them leaves and before any
 * client is answered.
 */
export class Member {
  readonly lessor: Lessor;
  readonly membership: Membership;
  private readonly raft: RawNode;
  private readonly raftStorage: MemoryStorage;
  private readonly applier: Applier;
  private readonly waits: WaitRegistry<{ revision: bigint; value: ApplyValue }>;
  private readonly reads: LinearizableReads;
  private readonly ids: IdGenerator;
  private readonly logger: Logger;
  private readonly wal: Wal;
  private readonly snapshotter: Snapshotter;
  private confState: ConfState;
  private appliedIndex: bigint;
  private snapshotIndex: bigint;
  private leaderId = 0n;
  private loopRunning = false;
  private stopped = false;
  private ticker: NodeJS.Timeout | undefined;
  private loopIdle: Promise<void> = Promise.resolve();
  private fatal: ((err: unknown) => void) | undefined;
  /** Requests that arrived while there was no leader, released when one is known. */
  private leaderWaiters: Array<() => void> = [];
  private campaignAfterAdvance = false;

  constructor(
    private readonly config: MemberConfig,
    opened: OpenedStorage,
    readonly store: MvccStore,
    readonly watchHub: WatchHub,
    private readonly clock: Clock,
    rootLogger: Logger,
    random: () => number,
  ) {
    this.logger = rootLogger.child({ component: 'member' });
    this.wal = opened.wal;
    this.snapshotter = opened.snapshotter;
    this.raftStorage = opened.raftStorage;
    this.confState = opened.confState;
    this.snapshotIndex = opened.snapshotIndex;
    this.appliedIndex = opened.snapshotIndex;
    this.membership = new Membership(opened.clusterId, opened.memberId, opened.members);
    this.lessor = new Lessor(BigInt(Math.ceil((3 * config.electionTimeoutMs) / 2000)));
    this.applier = new Applier(store, this.lessor, () => clock.nowMs(), rootLogger.child({ component: 'apply' }));
    this.ids = new IdGenerator(opened.memberId, clock.nowMs());
    const requestTimeoutMs = 5000 + 2 * config.electionTimeoutMs;
    this.waits = new WaitRegistry(MAX_PENDING_PROPOSALS, requestTimeoutMs, Errors.timeout);
    this.reads = new LinearizableReads(
      (context) => {
        this.raft.readIndex(context);
        this.runLoop();
      },
      () => this.appliedIndex,
      requestTimeoutMs,
      Errors.timeout,
    );
    this.raft = new RawNode({
      id: opened.memberId,
      electionTicks: Math.max(2, Math.round(config.electionTimeoutMs / config.heartbeatIntervalMs)),
      heartbeatTicks: 1,
      storage: this.raftStorage,
      applied: opened.snapshotIndex,
      random,
      preVote: true,
      checkQuorum: true,
      maxInflightMessages: 256,
      maxEntriesBytesPerMessage: 1024 * 1024,
      logger: rootLogger.child({ component: 'raft' }),
    });
  }

  get id(): bigint {
    return this.membership.localId;
  }

  /** Starts ticking; `onFatal` is told if the loop hits an error it cannot survive. */
  start(onFatal: (err: unknown) => void): void {
    this.fatal = onFatal;
    this.ticker = setInterval(() => {
      this.raft.tick();
      this.runLoop();
    }, this.config.heartbeatIntervalMs);
    this.runLoop();
  }

  header(revision: bigint = this.store.currentRevision()): ResponseHeader {
    return {
      clusterId: this.membership.clusterId,
      memberId: this.membership.localId,
      revision,
      raftTerm: this.raft.status().term,
    };
  }

  leader(): bigint {
    return this.leaderId;
  }

  isLeader(): boolean {
    return this.leaderId === this.id;
  }

  raftStatus(): { term: bigint; commit: bigint; applied: bigint; lead: bigint } {
    const status = this.raft.status();
    return { term: status.term, commit: status.commit, applied: this.appliedIndex, lead: status.lead };
  }

  nextLeaseId(): bigint {
    return this.ids.nextLeaseId();
  }

  /**
   * Rebuilds the in-memory lease table from LMDB at start: the leases, then which keys are
   * attached to each (one scan of the live keys).
   */
  restoreLeases(): void {
    const now = this.clock.nowMs();
    for (const record of this.store.listLeases()) {
      this.lessor.grant(record.id, record.ttlSeconds, now, record.remainingSeconds);
    }
    if (this.lessor.size() === 0) return;
    for (const { key, lease } of this.store.leasedKeys()) this.lessor.attach(lease, key);
  }

  /** Proposes a change and resolves with its apply result; an apply-time refusal throws. */
  async propose(proposal: Proposal, ctx: RequestContext): Promise<{ revision: bigint; value: ApplyValue }> {
    if (this.stopped) throw Errors.serverStopped();
    await this.awaitLeader(ctx);
    if (this.waits.isFull()) throw Errors.tooManyRequests();
    const requestId = this.ids.next();
    const data = encodeRequest({ requestId, proposal });
    if (data.byteLength > this.config.maxRequestBytes) throw Errors.requestTooLarge();
    const applied = this.waits.register(requestId);
    try {
      this.raft.propose(data);
    } catch (err) {
      if (!(err instanceof ProposalDroppedError)) throw err;
      this.waits.reject(requestId, this.leaderId === 0n ? Errors.noLeader() : Errors.leaderChanged());
    }
    this.runLoop();
    return applied;
  }

  /** Resolves when a local read would see every write acknowledged before the call. */
  async linearizableRead(ctx: RequestContext): Promise<void> {
    if (this.stopped) throw Errors.serverStopped();
    await this.awaitLeader(ctx);
    const done = this.reads.wait();
    this.runLoop();
    return done;
  }

  /**
   * Without a leader a proposal would be dropped. Clients that sent `hasleader` want to
   * know at once; others wait (bounded by one election round plus slack), as etcd's
   * clients expect during a start or an election.
   */
  private async awaitLeader(ctx: RequestContext): Promise<void> {
    if (this.leaderId !== 0n) return;
    if (ctx.requireLeader) throw Errors.noLeader();
    const boundMs = 3 * this.config.electionTimeoutMs + 1000;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.leaderWaiters = this.leaderWaiters.filter((w) => w !== release);
        reject(Errors.noLeader());
      }, boundMs);
      const release = (): void => {
        clearTimeout(timer);
        resolve();
      };
      this.leaderWaiters.push(release);
    });
    if (this.stopped) throw Errors.serverStopped();
  }

  /**
   * Starts a pass of the Ready loop unless one is running: proposals and ticks only change
   * the Raft node synchronously, and the running pass re-checks hasReady() after each await,
   * so nothing is missed. While a pass awaits its fsync, new proposals pile up and go out
   * together in the next Ready (group commit).
   */
  private runLoop(): void {
    if (this.stopped || this.loopRunning || !this.raft.hasReady()) return;
    this.loopRunning = true;
    this.loopIdle = this.drainReady().catch((err: unknown) => {
      this.logger.fatal({ err }, 'raft loop failed; stopping member');
      this.stopped = true;
      this.fatal?.(err);
    });
  }

  private async drainReady(): Promise<void> {
    try {
      while (!this.stopped && this.raft.hasReady()) {
        const ready = this.raft.ready();
        await this.handleReady(ready);
        this.raft.advance(ready);
        if (this.campaignAfterAdvance && this.raft.status().state !== 'leader') this.raft.campaign();
        this.campaignAfterAdvance = false;
        await this.maybeSnapshot();
      }
    } finally {
      this.loopRunning = false;
    }
  }

  private async handleReady(ready: Ready): Promise<void> {
    if (ready.softState !== undefined) this.onSoftState(ready.softState.lead);
    if (ready.hardState !== undefined || ready.entries.length > 0) {
      await this.wal.save(ready.hardState, ready.entries);
    }
    if (ready.hardState !== undefined) this.raftStorage.setHardState(ready.hardState);
    if (ready.entries.length > 0) this.raftStorage.append(ready.entries);
    // A one-member cluster has no peers; the peer transport comes with multi-member support.
    this.applyCommitted(ready.committedEntries);
    for (const state of ready.readStates) this.reads.onReadState(state.index, state.context);
  }

  private onSoftState(lead: bigint): void {
    const wasLeader = this.isLeader();
    if (lead === this.leaderId) return;
    this.logger.info({ leader: lead.toString(16), term: this.raft.status().term.toString() }, 'leader changed');
    this.leaderId = lead;
    if (lead !== 0n) {
      const waiters = this.leaderWaiters;
      this.leaderWaiters = [];
      for (const release of waiters) release();
    }
    if (this.isLeader() && !wasLeader) this.lessor.promote(this.clock.nowMs(), this.config.electionTimeoutMs);
    if (wasLeader && !this.isLeader()) {
      this.lessor.demote();
      this.reads.failAll(Errors.leaderChanged);
    }
  }

  private applyCommitted(entries: readonly Entry[]): void {
    if (entries.length === 0) return;
    const requests: CommittedRequest[] = [];
    for (const entry of entries) {
      if (entry.type === EntryType.ConfChange) {
        this.applyConfChange(entry);
        continue;
      }
      requests.push({ index: entry.index, envelope: entry.data.byteLength === 0 ? undefined : decodeRequest(entry.data) });
    }
    const last = entries[entries.length - 1]!.index;
    const batch = this.applier.applyBatch(requests, last);
    this.appliedIndex = last;
    if (batch.writes.length > 0) this.watchHub.notify(batch.writes);
    if (batch.compactedRevision !== undefined) this.watchHub.compacted(batch.compactedRevision);
    for (const { requestId, outcome } of batch.applied) {
      if (outcome.ok) this.waits.resolve(requestId, { revision: outcome.revision, value: outcome.value });
      else this.waits.reject(requestId, outcome.error);
    }
    this.reads.onApplied();
  }

  /** Conf changes are applied to Raft on every start (replay rebuilds the voter set). */
  private applyConfChange(entry: Entry): void {
    const change = decodeConfChange(entry.data);
    this.confState = this.raft.applyConfChange(change);
    if (change.type === ConfChangeType.AddNode && change.context.byteLength > 0) {
      for (const m of decodeMembers(change.context)) {
        if (this.membership.get(m.id) === undefined) this.membership.add(m);
      }
    }
    const voters = this.confState.voters;
    // A one-voter cluster need not wait an election timeout to lead itself; Raft takes the
    // campaign only once this Ready (with the conf change) has been advanced past.
    this.campaignAfterAdvance = voters.length === 1 && voters[0] === this.id;
  }

  /**
   * Every --snapshot-count applied entries: make LMDB durable, record the snapshot, trim the
   * in-memory log to the catch-up window, and delete WAL segments the snapshot covers.
   */
  private async maybeSnapshot(): Promise<void> {
    if (this.appliedIndex - this.snapshotIndex < BigInt(this.config.snapshotCount)) return;
    const index = this.appliedIndex;
    await this.store.flushed();
    const snapshot = this.raftStorage.createSnapshot(index, this.confState, encodeMembers(this.membership.list()));
    // Marker first: a snap file is only trusted at start when the WAL has its marker.
    await this.wal.saveSnapshotMarker(snapshot.metadata);
    await this.snapshotter.save(snapshot.metadata, snapshot.data);
    const compactTo = index - BigInt(this.config.snapshotCatchupEntries);
    if (compactTo > this.raftStorage.firstIndex()) this.raftStorage.compact(compactTo);
    // Keep the WAL back to the previous snapshot, so a damaged newest snap file can fall
    // back to the one before it and still replay without a gap.
    await this.wal.releaseBefore(this.snapshotIndex);
    await this.snapshotter.purge(SNAPSHOTS_KEPT);
    this.snapshotIndex = index;
    this.logger.info({ index: index.toString() }, 'saved snapshot');
  }

  /** Stops ticking, fails waiting requests, lets the in-flight persist finish. */
  async stop(): Promise<void> {
    if (this.ticker !== undefined) clearInterval(this.ticker);
    this.stopped = true;
    await this.loopIdle;
    this.waits.rejectAll(Errors.serverStopped);
    this.reads.failAll(Errors.serverStopped);
    await this.wal.close();
  }
}
