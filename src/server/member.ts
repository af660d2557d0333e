import { Errors } from '../errors';
import type { Logger } from '../log';
import { NO_METRICS, type MemberMetrics } from '../metrics/member-metrics';
import { failpoint } from '../failpoints';
import { MessageType, StepPeerNotFoundError, decodeConfChange, payloadSize, type MemoryStorage, type Message, type RawNode, type Ready } from '../consensus';
import { EntryType, type ConfChangeTypeValue, type ConfState, type Entry, type Snapshot } from '../consensus/types';
import type { MemberInfo, RequestContext, ResponseHeader } from '../api/member-port';
import type { PeerAddress, PeerTransport } from '../transport/types';
import type { TimeToLiveAnswer, TimeToLiveQuery } from '../transport';
import { Lessor } from '../lease/lessor';
import { isRefusedCommit, type MvccStore } from '../storage/mvcc';
import type { Wal } from '../storage/wal';
import type { WatchHub } from '../storage/mvcc/watch';
import type { ReconfigView } from './reconfig-check';
import { Applier, type ApplyValue, type CommittedRequest } from './applier';
import type { OpenedStorage } from './bootstrap';
import { MEMBERS_META } from './storage-layout';
import { decodeConfChangeContext } from './conf-change-context';
import type { MemberConfig } from './config';
import { IdGenerator } from './id-generator';
import { LinearizableReads } from './linearizable-reads';
import { decodeMembers, encodeMembers, Membership } from './membership';
import type { Proposal } from './proposal';
import { decodeRequest } from './request-codec';
import { WaitRegistry } from './wait';
import { ActiveAlarms, ALARMS_META, decodeAlarms } from './alarms';
import { applyToMembership } from './member-conf-change';
import { bestTransferee, learnerIsReady, reconfigView, waitUntilLeads } from './member-leadership';
import { renewLeaseOnLeader, restoreLeases, timeToLiveFromLeader, timeToLiveHere } from './member-leases';
import { MemberProposals } from './member-proposals';
import { createRaftNode } from './member-raft-node';
import { NoSpaceGate } from './member-quota';
import { DiskSpaceWatch } from './disk-space-watch';
import { RemovalWatch } from './member-removal';
import { MemberSnapshots } from './member-snapshots';

/** etcd's apply-wait bound: at most this many proposals wait; more get "too many requests". */
const MAX_PENDING_PROPOSALS = 50_000;

export interface Clock {
  nowMs(): number;
}

/**
 * One latchkey member: drives its Raft node (tick → ready → persist → send → apply →
 * advance), turns client writes into proposals and answers them when their entry is
 * applied, and serves linearizable reads by ReadIndex. Persist before speak: entries and
 * hard state are fsynced before any message that depends on them leaves and before any
 * client is answered.
 *
 * The Ready loop lives here; its helpers live beside it in member-*.ts: proposals and
 * waiting for a leader (member-proposals), snapshots (member-snapshots), the quota gate
 * (member-quota), removal bookkeeping (member-removal), conf-change records
 * (member-conf-change), leadership questions (member-leadership) and leases (member-leases).
 */
export class Member {
  readonly lessor: Lessor;
  readonly membership: Membership;
  private readonly raft: RawNode;
  private readonly raftStorage: MemoryStorage;
  private readonly applier: Applier;
  private readonly noSpace: NoSpaceGate;
  private readonly diskSpace: DiskSpaceWatch;
  /** Pending until the event loop has put the last send on the wire; undefined once it has. */
  private lastSendOnTheWire: Promise<void> | undefined;
  private readonly waits: WaitRegistry<{ revision: bigint; value: ApplyValue }>;
  private readonly reads: LinearizableReads;
  private readonly ids: IdGenerator;
  private readonly proposals: MemberProposals;
  private readonly snapshots: MemberSnapshots;
  private readonly removal: RemovalWatch;
  private readonly logger: Logger;
  private readonly wal: Wal;
  private confState: ConfState;
  private appliedIndex: bigint;
  private leaderId = 0n;
  private loopRunning = false;
  /** A loop pass is queued with setImmediate (scheduleLoop). */
  private loopScheduled = false;
  private stopped = false;
  private ticker: NodeJS.Timeout | undefined;
  private loopIdle: Promise<void> = Promise.resolve();
  private fatal: ((err: unknown) => void) | undefined;
  private campaignAfterAdvance = false;
  private transport: PeerTransport | undefined;

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
    this.raftStorage = opened.raftStorage;
    this.confState = opened.confState;
    this.appliedIndex = opened.snapshotIndex;
    const snapshotLabel = { appliedIndex: () => this.appliedIndex, confState: () => this.confState, members: () => this.membership.list() };
    this.snapshots = new MemberSnapshots(opened, store, config, snapshotLabel, this.logger);
    this.membership = new Membership(opened.clusterId, opened.memberId, opened.members);
    this.removal = new RemovalWatch({
      membership: this.membership,
      nowMs: () => clock.nowMs(),
      leaderId: () => this.leaderId,
      electionTimeoutMs: config.electionTimeoutMs,
      logger: this.logger,
    });
    this.lessor = new Lessor(BigInt(Math.ceil((3 * config.electionTimeoutMs) / 2000)));
    this.applier = new Applier(store, this.lessor, this.membership, () => clock.nowMs(), rootLogger.child({ component: 'apply' }));
    this.noSpace = new NoSpaceGate({
      store,
      alarms: this.applier.alarms,
      config,
      selfId: opened.memberId,
      propose: (proposal, ctx) => this.propose(proposal, ctx),
      logger: this.logger,
    });
    this.diskSpace = new DiskSpaceWatch(
      config.dataDir,
      (freeBytes) => this.noSpace.diskAlmostFull(freeBytes),
      (err) => this.logger.warn({ err }, 'cannot read the free space of the data directory'),
    );
    this.ids = new IdGenerator(opened.memberId, clock.nowMs());
    const requestTimeoutMs = 5000 + 2 * config.electionTimeoutMs;
    this.waits = new WaitRegistry(MAX_PENDING_PROPOSALS, requestTimeoutMs, Errors.timeout);
    this.reads = new LinearizableReads(
      (context) => {
        this.raft.readIndex(context);
        // A round starts after a setImmediate that already gathered this turn's readers: a
        // second deferral would only hold the heartbeat round back by another loop turn
        // (side by side: contended lock +12 %, lone linearizable range -9 % CPU).
        this.runLoop();
      },
      () => this.appliedIndex,
      requestTimeoutMs,
      // A lost round is retried after about two heartbeats' worth of election time.
      Math.max(2 * config.heartbeatIntervalMs, Math.floor(config.electionTimeoutMs / 2)),
      Errors.timeout,
      () => clock.nowMs(),
    );
    this.raft = createRaftNode(config, opened, random, rootLogger);
    this.proposals = new MemberProposals({
      raft: this.raft,
      waits: this.waits,
      ids: this.ids,
      config,
      isStopped: () => this.stopped,
      leaderId: () => this.leaderId,
      metrics: () => this.metrics,
      checkQuota: (proposal) => this.noSpace.check(proposal),
      scheduleLoop: () => this.scheduleLoop(),
      runLoop: () => this.runLoop(),
    });
  }

  get id(): bigint {
    return this.membership.localId;
  }

  /** Where leader changes, proposals and WAL fsync times are recorded (default: nowhere). */
  metrics: MemberMetrics = NO_METRICS;

  /** Peers are reached through this transport from now on. */
  attachTransport(transport: PeerTransport): void {
    this.transport = transport;
    transport.setPeers(this.peerAddresses());
  }

  /**
   * Starts ticking. `onFatal` is told if the loop hits an error it cannot survive;
   * `onRemoved` when this member applied its own removal from the cluster.
   */
  start(onFatal: (err: unknown) => void, onRemoved?: () => void): void {
    this.fatal = onFatal;
    this.removal.start(onRemoved);
    this.diskSpace.start();
    this.ticker = setInterval(() => {
      this.raft.tick();
      this.runLoop();
      this.removal.checkWhileLeaderless(this.id, this.transport);
    }, this.config.heartbeatIntervalMs);
    this.runLoop();
  }

  header(revision: bigint = this.store.currentRevision()): ResponseHeader {
    return {
      clusterId: this.membership.clusterId,
      memberId: this.membership.localId,
      revision,
      raftTerm: this.raft.term(),
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

  /** Rebuilds the in-memory lease table from LMDB at start (member-leases.ts). */
  restoreLeases(): void {
    restoreLeases(this.lessor, this.store, this.clock.nowMs());
  }

  /** Proposes a change and resolves with its apply result; an apply-time refusal throws. */
  propose(proposal: Proposal, ctx: RequestContext): Promise<{ revision: bigint; value: ApplyValue }> {
    return this.proposals.propose(proposal, ctx);
  }

  /** Resolves when a local read would see every write acknowledged before the call. */
  async linearizableRead(ctx: RequestContext): Promise<void> {
    if (this.stopped) throw Errors.serverStopped();
    await this.proposals.awaitLeader(ctx);
    const done = this.reads.wait();
    this.runLoop();
    return done;
  }

  /**
   * Starts the loop once this turn's I/O callbacks have run, so the proposals and peer
   * messages that arrived together go into one Ready: one WAL write and fsync, one envelope
   * per peer, one LMDB transaction. Taking a Ready per arrival made every step of the
   * pipeline pay its fixed cost per request.
   */
  private scheduleLoop(): void {
    if (this.loopScheduled || this.stopped) return;
    this.loopScheduled = true;
    setImmediate(() => {
      this.loopScheduled = false;
      this.runLoop();
    });
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
    this.loopIdle = this.drainReady().catch((err: unknown) => this.failLoop(err));
  }

  /** The Ready loop (or a snapshot it started) failed: the member stops. */
  private failLoop(err: unknown): void {
    this.logger.fatal({ err }, 'raft loop failed; stopping member');
    this.stopped = true;
    this.fatal?.(err);
  }

  private async drainReady(): Promise<void> {
    try {
      for (let pass = 0; !this.stopped && this.raft.hasReady(); pass++) {
        // After a pass's fsync, let the rest of this turn's I/O (acks, proposals) reach Raft
        // first, so the next Ready carries all of it.
        if (pass > 0) await new Promise<void>((resolve) => setImmediate(resolve));
        if (this.stopped || !this.raft.hasReady()) break;
        const ready = this.raft.ready();
        await this.handleReady(ready);
        this.raft.advance(ready);
        if (this.campaignAfterAdvance && this.raft.status().state !== 'leader') this.raft.campaign();
        this.campaignAfterAdvance = false;
        this.snapshots.maybeSnapshot((err) => this.failLoop(err));
      }
    } finally {
      this.loopRunning = false;
    }
  }

  private async handleReady(ready: Ready): Promise<void> {
    if (ready.softState !== undefined) this.onSoftState(ready.softState.lead);
    if (ready.snapshot !== undefined && ready.snapshot.metadata.index > 0n) await this.installSnapshot(ready.snapshot);
    // A leader may replicate in parallel with its own fsync (Raft thesis §10.2.1, as etcd
    // does): it counts itself towards a commit only for entries in its log, and the entries
    // a commit hands back to us arrive in a later Ready, after this one's fsync. Every other
    // state (a candidate's self-vote, a follower's acks) must be durable before it is sent.
    const sendEarly = this.raft.role() === 'leader';
    if (sendEarly) this.sendMessages(ready.messages);
    let committed = ready.committedEntries;
    if (ready.hardState !== undefined || ready.entries.length > 0) {
      await this.sentOnTheWire();
      const saveStarted = performance.now();
      // One group commit: the write plus its fdatasync. A save that only moved the commit
      // index is not fsynced, and etcd's histogram counts fsyncs only.
      const saved = this.wal.save(ready.hardState, ready.entries, ready.mustSync).then(() => {
        if (ready.mustSync) this.metrics.walFsync((performance.now() - saveStarted) / 1000);
      });
      // Awaited below; the no-op handler keeps a failure during the apply from counting
      // as unhandled before then.
      saved.catch(() => undefined);
      // Committed entries need not wait for this Ready's fsync, which is on its way in the
      // thread pool: apply them and answer their clients meanwhile, as etcd applies beside
      // its WAL save. Without this every answer waited for the next batch's fsync too (1.2 ms
      // on average on the leader here, 10-40 ms while the disk is slow).
      const early = ready.snapshot === undefined ? countUpTo(committed, this.appliableBeforeSave(ready)) : 0;
      if (early > 0) {
        failpoint('afterFsyncBeforeApply');
        await this.applyCommittedRecovering(committed.slice(0, early));
        committed = committed.slice(early);
      }
      await saved;
    }
    if (ready.hardState !== undefined) this.raftStorage.setHardState(ready.hardState);
    if (ready.entries.length > 0) {
      this.raftStorage.append(ready.entries);
      this.diskSpace.noteLogged(payloadSize(ready.entries));
    }
    // Only now, with everything they depend on durable, may a non-leader's messages leave.
    if (!sendEarly) this.sendMessages(ready.messages);
    if (committed.length > 0) {
      await this.sentOnTheWire();
      failpoint('afterFsyncBeforeApply');
    }
    await this.applyCommittedRecovering(committed);
    for (const state of ready.readStates) this.reads.onReadState(state.index, state.context);
    this.removal.stopIfRemoved();
  }

  /**
   * The last committed entry `ready` may apply before its own save. A follower's commit index
   * comes from the leader, which counts an entry committed once a quorum holds it (Raft never
   * takes a committed entry back), so a follower applies every committed entry at once, as
   * etcd does. A leader counts its own copy before the copy is durable, and a lone member
   * commits on append: a leader applies only what its WAL already holds.
   */
  private appliableBeforeSave(ready: Ready): bigint {
    if (this.raft.role() === 'follower') return ready.committedEntries.at(-1)?.index ?? 0n;
    return this.durableLastIndex(ready);
  }

  /**
   * The last index this member's WAL holds durably before `ready` is saved: entries reach
   * raftStorage only after their save, and entries `ready` rewrites (a follower's conflicting
   * suffix) no longer count.
   */
  private durableLastIndex(ready: Ready): bigint {
    const stored = this.raftStorage.lastIndex();
    const first = ready.entries[0];
    return first !== undefined && first.index <= stored ? first.index - 1n : stored;
  }

  private onSoftState(lead: bigint): void {
    const wasLeader = this.isLeader();
    if (lead === this.leaderId) return;
    this.logger.info({ leader: lead.toString(16), term: this.raft.status().term.toString() }, 'leader changed');
    this.leaderId = lead;
    if (lead !== 0n) this.metrics.leaderChanged();
    this.removal.leaderChanged(lead);
    if (lead !== 0n) this.proposals.releaseLeaderWaiters();
    if (this.isLeader() && !wasLeader) this.lessor.promote(this.clock.nowMs(), this.config.electionTimeoutMs);
    if (wasLeader && !this.isLeader()) {
      this.lessor.demote();
      this.reads.failAll(Errors.leaderChanged);
    } else if (lead !== 0n) {
      this.reads.retryInFlight();
    }
  }

  /**
   * applyCommitted, surviving one refused LMDB commit (lmdb-js' free-list bug, see
   * isRefusedCommit): the store is reopened, which rebuilds LMDB's in-memory state from the
   * files, and the batch applied once more. A second refusal, or a batch that cannot be
   * applied twice, stops the member as any other apply failure does.
   */
  private async applyCommittedRecovering(entries: readonly Entry[]): Promise<void> {
    try {
      this.applyCommitted(entries);
    } catch (err) {
      if (!(err instanceof RefusedCommit)) throw err;
      this.logger.warn({ err: err.cause, entries: entries.length }, 'LMDB refused a commit; reopening the store and applying the batch again');
      await this.snapshots.idle();
      await this.store.reopen();
      this.applyCommitted(entries);
    }
  }

  private applyCommitted(entries: readonly Entry[]): void {
    if (entries.length === 0) return;
    const requests: CommittedRequest[] = [];
    const membershipAnswers: bigint[] = [];
    for (const entry of entries) {
      if (entry.type === EntryType.ConfChange) {
        const requestId = this.applyConfChange(entry);
        if (requestId !== 0n) membershipAnswers.push(requestId);
        continue;
      }
      requests.push({ index: entry.index, envelope: entry.data.byteLength === 0 ? undefined : decodeRequest(entry.data) });
    }
    const last = entries[entries.length - 1]!.index;
    const membersChanged = requests.length < entries.length;
    const members = this.membership.list();
    const commitStarted = performance.now();
    let batch: ReturnType<Applier['applyBatch']>;
    try {
      batch = this.applier.applyBatch(
        requests,
        last,
        membersChanged ? (writer) => writer.putMeta(MEMBERS_META, encodeMembers(members)) : undefined,
      );
    } catch (err) {
      // Nothing of the batch was kept; without conf changes (applied to Raft above) and with
      // only store writes in it, applying it again after a reopen gives the same answers.
      if (isRefusedCommit(err) && !membersChanged && Applier.isRetrySafe(requests)) throw new RefusedCommit(err);
      throw err;
    }
    // One LMDB write transaction (apply + commit; its fsync runs later, off the loop).
    this.metrics.backendCommit((performance.now() - commitStarted) / 1000);
    this.appliedIndex = last;
    if (batch.writes.length > 0) this.watchHub.notify(batch.writes);
    if (batch.compactedRevision !== undefined) this.watchHub.compacted(batch.compactedRevision);
    failpoint('afterApplyBeforeAnswer');
    for (const { requestId, outcome } of batch.applied) {
      if (outcome.ok) this.waits.resolve(requestId, { revision: outcome.revision, value: outcome.value });
      else this.waits.reject(requestId, outcome.error);
    }
    if (membersChanged) {
      this.transport?.setPeers(this.peerAddresses());
      for (const requestId of membershipAnswers) this.waits.resolve(requestId, { revision: this.store.currentRevision(), value: members });
    }
    this.reads.onApplied();
  }


  /**
   * Conf changes are applied to Raft on every start (replay rebuilds the voter set) and to
   * the membership records they carry. Returns the request id waiting on it (0 if none).
   */
  private applyConfChange(entry: Entry): bigint {
    const change = decodeConfChange(entry.data);
    this.confState = this.raft.applyConfChange(change);
    const voters = this.confState.voters;
    // A one-voter cluster need not wait an election timeout to lead itself; Raft takes the
    // campaign only once this Ready (with the conf change) has been advanced past.
    this.campaignAfterAdvance = voters.length === 1 && voters[0] === this.id;
    if (change.context.byteLength === 0) return 0n;
    const { requestId, member } = decodeConfChangeContext(change.context);
    if (applyToMembership(change.type, member, this.membership, this.id)) this.removal.markRemoved();
    return requestId;
  }

  /** Peers refused this member as removed. */
  stopBecauseRemoved(): void {
    this.removal.removedByPeers();
  }

  private peerAddresses(): PeerAddress[] {
    return this.membership.peers().map((m) => ({ id: m.id, peerUrls: m.peerUrls }));
  }

  private sendMessages(messages: readonly Message[]): void {
    if (messages.length === 0 || this.transport === undefined) return;
    const ordinary: Message[] = [];
    for (const message of messages) {
      if (message.type === MessageType.Snap) void this.snapshots.send(message, this.transport, (peer) => this.reportSnapshot(peer, false));
      else ordinary.push(message);
    }
    if (ordinary.length === 0) return;
    this.transport.send(ordinary);
    // Immediates run in order: once this one has, every send made so far is on the wire.
    const onTheWire = flushOutgoing().then(() => {
      if (this.lastSendOnTheWire === onTheWire) this.lastSendOnTheWire = undefined;
    });
    this.lastSendOnTheWire = onTheWire;
  }

  /** Resolves once every message handed to the transport so far has left (see flushOutgoing). */
  private async sentOnTheWire(): Promise<void> {
    if (this.lastSendOnTheWire !== undefined) await this.lastSendOnTheWire;
  }

  /** The transport finished (or failed) sending a snapshot. */
  reportSnapshot(peer: bigint, ok: boolean): void {
    this.snapshots.releaseSent(peer);
    if (this.stopped) return;
    this.raft.reportSnapshot(peer, ok);
    this.runLoop();
  }

  reportUnreachable(peer: bigint): void {
    if (this.stopped) return;
    this.raft.reportUnreachable(peer);
  }

  /**
   * Nothing listens on `peer`'s peer port. If it is our leader, its process is gone: Raft
   * need not wait out a full election timeout of silence to replace it (Raft.leaderDown),
   * which is most of a failover after a crash.
   */
  reportPeerRefused(peer: bigint): void {
    if (this.stopped || peer !== this.leaderId || this.isLeader()) return;
    if (!this.raft.reportLeaderDown(peer)) return;
    this.logger.info({ leader: peer.toString(16) }, "the leader's peer port refuses connections; not waiting out the election timeout");
  }

  /** A Raft message from a peer. */
  receive(message: Message): void {
    if (this.stopped) return;
    try {
      this.raft.step(message);
    } catch (err) {
      if (err instanceof StepPeerNotFoundError) return;
      throw err;
    }
    this.scheduleLoop();
  }

  /** An InstallSnapshot: keep the database image durably, then let Raft take the message. */
  async receiveSnapshot(message: Message, file: string): Promise<void> {
    await this.snapshots.keepReceived(message, file);
    this.receive(message);
  }

  /**
   * Raft adopted a snapshot: record it (WAL marker first), replace the state machine with
   * the received database (member-snapshots.ts), and reload what lives beside it in memory.
   */
  private async installSnapshot(snapshot: Snapshot): Promise<void> {
    const { metadata } = snapshot;
    await this.snapshots.idle();
    await this.snapshots.persistAdopted(snapshot);
    this.lessor.clear();
    this.restoreLeases();
    if (this.isLeader()) this.lessor.promote(this.clock.nowMs(), this.config.electionTimeoutMs);
    this.membership.replaceAll(decodeMembers(snapshot.data));
    this.applier.alarms.replaceAll(decodeAlarms(this.store.getMeta(ALARMS_META)));
    this.applier.auth.reload();
    this.transport?.setPeers(this.peerAddresses());
    this.confState = metadata.confState;
    this.appliedIndex = metadata.index;
    this.snapshots.installedAt(metadata.index);
    this.watchHub.restored();
    this.reads.onApplied();
    this.logger.info({ index: metadata.index.toString(), revision: this.store.currentRevision().toString() }, 'installed snapshot');
  }

  /** Proposes a membership change and resolves with the members once it is applied. */
  changeMembership(type: ConfChangeTypeValue, member: MemberInfo, ctx: RequestContext): Promise<MemberInfo[]> {
    return this.proposals.changeMembership(type, member, ctx);
  }

  /** The membership and peer links as --strict-reconfig-check judges them (reconfig-check.ts). */
  reconfigView(): ReconfigView {
    return reconfigView(this.id, this.membership, this.transport);
  }

  /** Whether a learner has caught up enough to vote (etcd: within 10% of the leader's log). */
  learnerIsReady(id: bigint): boolean {
    return learnerIsReady(this.raft.status(), this.id, id);
  }

  /** Hands leadership to `target` and waits (bounded) until it leads. */
  async transferLeadership(target: bigint, timeoutMs: number): Promise<boolean> {
    if (!this.isLeader()) return false;
    this.raft.transferLeader(target);
    this.runLoop();
    return waitUntilLeads(target, timeoutMs, () => this.leaderId);
  }

  /** The alarms every member applied (NOSPACE, CORRUPT). */
  alarms(): ActiveAlarms {
    return this.applier.alarms;
  }

  /**
   * Maintenance.Defragment: rewrites LMDB without its free pages. The Ready loop (the only
   * writer) is held off meanwhile, as etcd blocks applies during its defrag.
   */
  async defragment(): Promise<void> {
    for (let waits = 0; this.loopRunning; waits += 1) {
      if (waits > 10_000) throw new Error('the Ready loop never went idle for defragment');
      await this.loopIdle;
    }
    if (this.stopped) throw Errors.serverStopped();
    this.loopRunning = true;
    // A snapshot in the background syncs the store this replaces.
    const defragmented = this.snapshots.idle().then(() => this.store.defragment()).finally(() => {
      this.loopRunning = false;
      this.runLoop();
    });
    // Published as the loop's work in flight: stop() must not close the store under the
    // copy and reopen, and a second defragment waits for this one instead of spinning.
    this.loopIdle = defragmented.catch(() => undefined);
    await defragmented;
  }

  isLearner(): boolean {
    return this.membership.get(this.id)?.isLearner ?? false;
  }

  /** KeepAlive lands on the leader: here if we lead, else forwarded over the peer link. */
  async keepAliveLease(leaseId: bigint, ctx: RequestContext): Promise<bigint> {
    await this.proposals.awaitLeader(ctx);
    if (this.isLeader()) return this.renewOnLeader(leaseId);
    if (this.transport === undefined) throw Errors.noLeader();
    return this.transport.forwardLeaseKeepAlive(this.leaderId, leaseId, ctx.signal);
  }

  /** TimeToLive as the leader sees it: here if we lead, else forwarded (member-leases.ts). */
  leaseTimeToLive(query: TimeToLiveQuery, ctx: RequestContext): Promise<TimeToLiveAnswer> {
    const transport = this.transport;
    return timeToLiveFromLeader(
      {
        awaitLeader: (c) => this.proposals.awaitLeader(c),
        remoteLeader: () => (this.isLeader() || transport === undefined ? undefined : this.leaderId),
        here: (q) => this.timeToLiveHere(q),
        forward: (leader, q, signal) => {
          if (transport === undefined) throw Errors.noLeader(); // remoteLeader() is undefined then
          return transport.forwardLeaseTimeToLive(leader, q, signal);
        },
      },
      query,
      ctx,
    );
  }

  /** This member's own view of a lease (exact on the leader; a peer's forward lands here). */
  timeToLiveHere(query: TimeToLiveQuery): TimeToLiveAnswer {
    return timeToLiveHere(this.lessor, query, this.clock.nowMs());
  }

  /** Renews here (the leader); clears a stale checkpoint through Raft, as etcd does. */
  renewOnLeader(leaseId: bigint): bigint {
    return renewLeaseOnLeader(this.lessor, leaseId, this.clock.nowMs(), (proposal, ctx) => this.propose(proposal, ctx), this.logger);
  }

  /**
   * Tells the cluster this member's name and client URLs (etcd publishes its attributes
   * through Raft the same way), retrying a bounded number of times.
   */
  async publishAttributes(name: string, clientUrls: string[]): Promise<void> {
    const ctx: RequestContext = { signal: new AbortController().signal, requireLeader: false };
    for (let attempt = 0; attempt < 10 && !this.stopped; attempt++) {
      try {
        await this.propose({ kind: 'memberAttributes', memberId: this.id, name, clientUrls }, ctx);
        return;
      } catch (err) {
        this.logger.debug({ err, attempt }, 'publishing member attributes failed; retrying');
      }
    }
  }

  /**
   * Graceful stop: a leader first hands leadership to its most caught-up follower (so the
   * cluster does not wait an election timeout), then ticking stops, waiting requests fail,
   * and the persist in flight finishes.
   */
  async stop(): Promise<void> {
    if (!this.stopped && this.isLeader() && this.confState.voters.length > 1) {
      const heir = bestTransferee(this.raft.status(), this.confState.voters, this.id);
      if (heir !== undefined) {
        const moved = await this.transferLeadership(heir, 2 * this.config.electionTimeoutMs);
        this.logger.info({ to: heir.toString(16), moved }, 'leadership transfer on shutdown');
      }
    }
    if (this.ticker !== undefined) clearInterval(this.ticker);
    this.diskSpace.stop();
    this.stopped = true;
    await this.loopIdle;
    await this.snapshots.idle();
    this.waits.rejectAll(Errors.serverStopped);
    this.reads.failAll(Errors.serverStopped);
    for (const peer of this.snapshots.sendingTo()) this.reportSnapshot(peer, false);
    await this.wal.close();
  }
}

/** An apply batch whose commit LMDB refused and that may be applied again (see applyCommittedRecovering). */
class RefusedCommit extends Error {
  constructor(override readonly cause: unknown) {
    super('LMDB refused the commit of a batch that may be applied again');
    this.name = 'RefusedCommit';
  }
}

/**
 * Lets the event loop put what was just sent on the wire. Node's HTTP/2 session writes its
 * frames to the socket from a native immediate, after the running JavaScript returns: an
 * fdatasync or an LMDB commit run synchronously right after a send would hold the frames
 * back for its whole duration, putting the leader's fsync and the follower's apply in series
 * with the replication round instead of beside it. So every save and apply first waits for
 * the sends before it (sentOnTheWire), also across Ready passes and loop restarts.
 */
function flushOutgoing(): Promise<void> {
  return new Promise<void>((resolve) => setImmediate(resolve));
}

/** How many of `entries` (contiguous, ascending) have an index at most `bound`. */
function countUpTo(entries: readonly Entry[], bound: bigint): number {
  const first = entries[0];
  if (first === undefined || bound < first.index) return 0;
  const upTo = bound - first.index + 1n;
  return upTo >= BigInt(entries.length) ? entries.length : Number(upTo);
}
