import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Errors } from '../errors';
import type { Logger } from '../log';
import { NO_METRICS, type MemberMetrics } from '../metrics/member-metrics';
import { failpoint } from '../failpoints';
import {
  MemoryStorage,
  MessageType,
  ProposalDroppedError,
  RawNode,
  StepPeerNotFoundError,
  decodeConfChange,
  type Message,
  type Ready,
} from '../consensus';
import { ConfChangeType, EntryType, type ConfChangeTypeValue, type ConfState, type Entry, type Snapshot } from '../consensus/types';
import type { MemberInfo, RequestContext, ResponseHeader } from '../api/member-port';
import type { PeerAddress, PeerTransport } from '../transport/types';
import { Lessor } from '../lease/lessor';
import type { MvccStore } from '../storage/mvcc';
import type { Snapshotter } from '../storage/snap';
import type { Wal } from '../storage/wal';
import type { WatchHub } from '../storage/mvcc/watch';
import type { ReconfigView } from './reconfig-check';
import { Applier, type ApplyValue, type CommittedRequest } from './applier';
import type { OpenedStorage } from './bootstrap';
import { MEMBERS_META } from './storage-layout';
import { decodeConfChangeContext, encodeConfChangeContext } from './conf-change-context';
import type { MemberConfig } from './config';
import { IdGenerator } from './id-generator';
import { LinearizableReads } from './linearizable-reads';
import { decodeMembers, encodeMembers, Membership } from './membership';
import type { Proposal } from './proposal';
import { decodeRequest, encodeRequest } from './request-codec';
import { ReceivedSnapshotFiles } from './snapshot-files';
import { WaitRegistry } from './wait';
import { raftLogger } from './raft-logger';
import { ActiveAlarms, ALARMS_META, decodeAlarms } from './alarms';
import { BackendQuota, growsDatabase } from './quota';
import { AlarmAction, AlarmType } from '../api/member-port';

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
  private readonly quota: BackendQuota;
  private raisingNoSpace = false;
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
  /** A loop pass is queued with setImmediate (scheduleLoop). */
  private loopScheduled = false;
  private stopped = false;
  private ticker: NodeJS.Timeout | undefined;
  private loopIdle: Promise<void> = Promise.resolve();
  private fatal: ((err: unknown) => void) | undefined;
  /** Requests that arrived while there was no leader, released when one is known. */
  private leaderWaiters: Array<() => void> = [];
  private campaignAfterAdvance = false;
  private transport: PeerTransport | undefined;
  private readonly receivedSnapshots: ReceivedSnapshotFiles;
  /** Database copies being streamed to followers, by peer: deleted when the send ends. */
  private readonly outgoingSnapshots = new Map<bigint, string>();
  private removedFromCluster = false;
  private leaderlessSinceMs: number | undefined;
  private removalCheckRunning = false;
  private onRemoved: (() => void) | undefined;

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
    this.receivedSnapshots = new ReceivedSnapshotFiles(opened.snapDir);
    this.snapshotter = opened.snapshotter;
    this.raftStorage = opened.raftStorage;
    this.confState = opened.confState;
    this.snapshotIndex = opened.snapshotIndex;
    this.appliedIndex = opened.snapshotIndex;
    this.membership = new Membership(opened.clusterId, opened.memberId, opened.members);
    this.lessor = new Lessor(BigInt(Math.ceil((3 * config.electionTimeoutMs) / 2000)));
    this.applier = new Applier(store, this.lessor, this.membership, () => clock.nowMs(), rootLogger.child({ component: 'apply' }));
    this.quota = new BackendQuota(() => store.dbSizeBytes(), BigInt(config.quotaBackendBytes));
    this.ids = new IdGenerator(opened.memberId, clock.nowMs());
    const requestTimeoutMs = 5000 + 2 * config.electionTimeoutMs;
    this.waits = new WaitRegistry(MAX_PENDING_PROPOSALS, requestTimeoutMs, Errors.timeout);
    this.reads = new LinearizableReads(
      (context) => {
        this.raft.readIndex(context);
        this.scheduleLoop();
      },
      () => this.appliedIndex,
      requestTimeoutMs,
      // A lost round is retried after about two heartbeats' worth of election time.
      Math.max(2 * config.heartbeatIntervalMs, Math.floor(config.electionTimeoutMs / 2)),
      Errors.timeout,
      () => clock.nowMs(),
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
      logger: raftLogger(rootLogger.child({ component: 'raft' })),
    });
  }

  get id(): bigint {
    return this.membership.localId;
  }

  /** Peers are reached through this transport from now on. */
  /** Where leader changes, proposals and WAL fsync times are recorded (default: nowhere). */
  metrics: MemberMetrics = NO_METRICS;

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
    this.onRemoved = onRemoved;
    this.leaderlessSinceMs = this.clock.nowMs();
    this.ticker = setInterval(() => {
      this.raft.tick();
      this.runLoop();
      this.checkRemovalWhileLeaderless();
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
    this.checkQuota(proposal);
    await this.awaitLeader(ctx);
    if (this.waits.isFull()) throw Errors.tooManyRequests();
    const requestId = this.ids.next();
    const identity = ctx.identity;
    // Writes carry who asked and the auth revision they were checked at (see RequestEnvelope).
    const actor = identity !== undefined && identity !== null && proposal.kind !== 'auth' ? { user: identity.user, authRevision: identity.authRevision } : undefined;
    const data = encodeRequest(actor === undefined ? { requestId, proposal } : { requestId, proposal, actor });
    if (data.byteLength > this.config.maxRequestBytes) throw Errors.requestTooLarge();
    const applied = this.waits.register(requestId);
    this.metrics.proposalPending(1);
    applied.then(
      () => this.metrics.proposalPending(-1),
      () => {
        this.metrics.proposalPending(-1);
        this.metrics.proposalFailed();
      },
    );
    try {
      this.raft.propose(data);
    } catch (err) {
      if (!(err instanceof ProposalDroppedError)) throw err;
      this.waits.reject(requestId, this.leaderId === 0n ? Errors.noLeader() : Errors.leaderChanged());
    }
    this.scheduleLoop();
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
        await this.maybeSnapshot();
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
    if (ready.hardState !== undefined || ready.entries.length > 0) {
      const saveStarted = performance.now();
      await this.wal.save(ready.hardState, ready.entries, this.mustSync(ready));
      // One group commit: the write plus its fdatasync.
      this.metrics.walFsync((performance.now() - saveStarted) / 1000);
    }
    if (ready.hardState !== undefined) this.raftStorage.setHardState(ready.hardState);
    if (ready.entries.length > 0) this.raftStorage.append(ready.entries);
    // Only now, with everything they depend on durable, may a non-leader's messages leave.
    if (!sendEarly) this.sendMessages(ready.messages);
    if (ready.committedEntries.length > 0) failpoint('afterFsyncBeforeApply');
    this.applyCommitted(ready.committedEntries);
    for (const state of ready.readStates) this.reads.onReadState(state.index, state.context);
    if (this.removedFromCluster) {
      this.logger.warn('this member was removed from the cluster; stopping');
      this.onRemoved?.();
    }
  }

  /**
   * etcd's raft.MustSync: entries, a new term or a vote must be durable before anything that
   * depends on them is sent; a Ready that only moves the commit index needs no fdatasync
   * (after a crash the index is learnt again from the leader). Side by side
   * (scripts/ab-clusters.sh), this took 11 % off a lone client's put latency.
   */
  private mustSync(ready: Ready): boolean {
    if (ready.entries.length > 0) return true;
    const next = ready.hardState;
    if (next === undefined) return false;
    const saved = this.raftStorage.initialState().hardState;
    return next.term !== saved.term || next.vote !== saved.vote;
  }

  private onSoftState(lead: bigint): void {
    const wasLeader = this.isLeader();
    if (lead === this.leaderId) return;
    this.logger.info({ leader: lead.toString(16), term: this.raft.status().term.toString() }, 'leader changed');
    this.leaderId = lead;
    if (lead !== 0n) this.metrics.leaderChanged();
    this.leaderlessSinceMs = lead === 0n ? this.clock.nowMs() : undefined;
    if (lead !== 0n) {
      const waiters = this.leaderWaiters;
      this.leaderWaiters = [];
      for (const release of waiters) release();
    }
    if (this.isLeader() && !wasLeader) this.lessor.promote(this.clock.nowMs(), this.config.electionTimeoutMs);
    if (wasLeader && !this.isLeader()) {
      this.lessor.demote();
      this.reads.failAll(Errors.leaderChanged);
    } else if (lead !== 0n) {
      this.reads.retryInFlight();
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
    const batch = this.applier.applyBatch(
      requests,
      last,
      membersChanged ? (writer) => writer.putMeta(MEMBERS_META, encodeMembers(members)) : undefined,
    );
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
    switch (change.type) {
      case ConfChangeType.AddNode:
        if (this.membership.get(member.id) === undefined) this.membership.add({ ...member, isLearner: false });
        else this.membership.promote(member.id);
        break;
      case ConfChangeType.AddLearnerNode:
        this.membership.add({ ...member, isLearner: true });
        break;
      case ConfChangeType.RemoveNode:
        this.membership.remove(member.id);
        if (member.id === this.id) this.removedFromCluster = true;
        break;
      case ConfChangeType.UpdateNode:
        this.membership.update(member);
        break;
    }
    return requestId;
  }

  /**
   * A member removed while it was cut off never applies its own removal: the leader stops
   * talking to it. After three election timeouts without a leader it asks its former peers;
   * if they no longer list it, it stops itself (etcd learns the same from its peers).
   */
  private checkRemovalWhileLeaderless(): void {
    const since = this.leaderlessSinceMs;
    const transport = this.transport;
    if (since === undefined || transport === undefined || this.removalCheckRunning || this.removedFromCluster) return;
    if (this.clock.nowMs() - since < 3 * this.config.electionTimeoutMs) return;
    const urls = this.membership.peers().flatMap((m) => m.peerUrls);
    if (urls.length === 0) return;
    this.removalCheckRunning = true;
    transport
      .fetchClusterInfo(urls, AbortSignal.timeout(this.config.electionTimeoutMs))
      .then(({ clusterId, members }) => {
        if (clusterId === this.membership.clusterId && members.length > 0 && !members.some((m) => m.id === this.id)) {
          this.logger.warn('the cluster no longer lists this member; stopping');
          this.removedFromCluster = true;
          this.onRemoved?.();
        }
      })
      .catch((err: unknown) => this.logger.debug({ err }, 'asking peers about membership failed'))
      .finally(() => {
        this.removalCheckRunning = false;
        this.leaderlessSinceMs = this.leaderId === 0n ? this.clock.nowMs() : undefined;
      });
  }

  /** Peers refused this member as removed. */
  stopBecauseRemoved(): void {
    if (this.removedFromCluster) return;
    this.logger.warn('peers say this member was removed from the cluster; stopping');
    this.removedFromCluster = true;
    this.onRemoved?.();
  }

  private peerAddresses(): PeerAddress[] {
    return this.membership.peers().map((m) => ({ id: m.id, peerUrls: m.peerUrls }));
  }

  private sendMessages(messages: readonly Message[]): void {
    if (messages.length === 0 || this.transport === undefined) return;
    const ordinary: Message[] = [];
    for (const message of messages) {
      if (message.type === MessageType.Snap) void this.sendSnapshot(message);
      else ordinary.push(message);
    }
    if (ordinary.length > 0) this.transport.send(ordinary);
  }

  /**
   * A follower is behind the compacted log: send it the whole database as it is now,
   * labelled with the applied index and the current configuration (etcd's merged
   * snapshot). Entries the copy already holds are skipped by the follower's consistent index.
   */
  private async sendSnapshot(message: Message): Promise<void> {
    const transport = this.transport;
    if (transport === undefined) return;
    const index = this.appliedIndex;
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'latchkey-send-')), 'db');
    try {
      await this.store.copyTo(file);
      const snapshot: Snapshot = {
        metadata: { index, term: this.raftStorage.term(index), confState: this.confState },
        data: encodeMembers(this.membership.list()),
      };
      this.outgoingSnapshots.set(message.to, file);
      this.logger.info({ to: message.to.toString(16), index: index.toString() }, 'sending snapshot');
      transport.sendSnapshot({ ...message, snapshot }, file);
    } catch (err) {
      this.logger.warn({ err, to: message.to.toString(16) }, 'could not prepare a snapshot for a follower');
      fs.rmSync(path.dirname(file), { recursive: true, force: true });
      this.reportSnapshot(message.to, false);
    }
  }

  /** The transport finished (or failed) sending a snapshot. */
  reportSnapshot(peer: bigint, ok: boolean): void {
    const file = this.outgoingSnapshots.get(peer);
    if (file !== undefined) {
      this.outgoingSnapshots.delete(peer);
      fs.rmSync(path.dirname(file), { recursive: true, force: true });
    }
    if (this.stopped) return;
    this.raft.reportSnapshot(peer, ok);
    this.runLoop();
  }

  reportUnreachable(peer: bigint): void {
    if (this.stopped) return;
    this.raft.reportUnreachable(peer);
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
    const index = message.snapshot?.metadata.index;
    if (index === undefined) throw new Error('snapshot message without a snapshot');
    await this.receivedSnapshots.keep(index, file);
    this.receive(message);
  }

  /**
   * Raft adopted a snapshot: record it (WAL marker first), replace the state machine with
   * the received database, and reload what lives beside it in memory.
   */
  private async installSnapshot(snapshot: Snapshot): Promise<void> {
    const { metadata } = snapshot;
    const file = this.receivedSnapshots.find(metadata.index);
    if (file === undefined) throw new Error(`Raft adopted snapshot ${metadata.index} but its database image never arrived`);
    await this.wal.saveSnapshotMarker(metadata);
    await this.snapshotter.save(metadata, snapshot.data);
    this.raftStorage.applySnapshot(snapshot);
    await this.store.restoreFrom(file);
    this.receivedSnapshots.removeUpTo(metadata.index);
    this.lessor.clear();
    this.restoreLeases();
    if (this.isLeader()) this.lessor.promote(this.clock.nowMs(), this.config.electionTimeoutMs);
    this.membership.replaceAll(decodeMembers(snapshot.data));
    this.applier.alarms.replaceAll(decodeAlarms(this.store.getMeta(ALARMS_META)));
    this.applier.auth.reload();
    this.transport?.setPeers(this.peerAddresses());
    this.confState = metadata.confState;
    this.appliedIndex = metadata.index;
    this.snapshotIndex = metadata.index;
    this.watchHub.restored();
    this.reads.onApplied();
    this.logger.info({ index: metadata.index.toString(), revision: this.store.currentRevision().toString() }, 'installed snapshot');
  }

  /**
   * Proposes a membership change and resolves with the members once it is applied. Raft
   * takes one change at a time: a change proposed while another is pending is retried.
   */
  async changeMembership(type: ConfChangeTypeValue, member: MemberInfo, ctx: RequestContext): Promise<MemberInfo[]> {
    await this.awaitLeader(ctx);
    const requestId = this.ids.next();
    const applied = this.waits.register(requestId);
    const change = { type, nodeId: member.id, context: encodeConfChangeContext({ requestId, member }) };
    for (let attempt = 0; ; attempt++) {
      try {
        this.raft.proposeConfChange(change);
        break;
      } catch (err) {
        if (!(err instanceof ProposalDroppedError) || attempt >= 40 || this.stopped) {
          this.waits.reject(requestId, Errors.timeout());
          break;
        }
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
    this.runLoop();
    return (await applied).value as MemberInfo[];
  }

  /** The membership and peer links as --strict-reconfig-check judges them (reconfig-check.ts). */
  reconfigView(): ReconfigView {
    const transport = this.transport;
    return {
      selfId: this.id,
      members: this.membership.list(),
      activeSince: (id) => transport?.activeSince?.(id),
      nowMs: Date.now(),
    };
  }

  /** Whether a learner has caught up enough to vote (etcd: within 10% of the leader's log). */
  learnerIsReady(id: bigint): boolean {
    const status = this.raft.status();
    const progress = status.progress?.get(id);
    if (progress === undefined) return false;
    const leaderMatch = status.progress?.get(this.id)?.match ?? status.commit;
    return progress.match * 10n >= leaderMatch * 9n;
  }

  /** Hands leadership to `target` and waits (bounded) until it leads. */
  async transferLeadership(target: bigint, timeoutMs: number): Promise<boolean> {
    if (!this.isLeader()) return false;
    this.raft.transferLeader(target);
    this.runLoop();
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (this.leaderId === target) return true;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    return this.leaderId === target;
  }

  /** The most caught-up voter other than this member: the best heir on shutdown. */
  private bestTransferee(): bigint | undefined {
    const progress = this.raft.status().progress;
    if (progress === undefined) return undefined;
    let best: { id: bigint; match: bigint } | undefined;
    for (const id of this.confState.voters) {
      if (id === this.id) continue;
      const match = progress.get(id)?.match ?? 0n;
      if (best === undefined || match > best.match) best = { id, match };
    }
    return best?.id;
  }

  /** The alarms every member applied (NOSPACE, CORRUPT). */
  alarms(): ActiveAlarms {
    return this.applier.alarms;
  }

  /**
   * etcd's quota gate before proposing: a request that would grow the database past
   * --quota-backend-bytes is refused, and this member raises NOSPACE through Raft (once).
   * While NOSPACE is raised such requests are refused at once (the applier refuses them too).
   */
  private checkQuota(proposal: Proposal): void {
    if (proposal.kind === 'alarm') return;
    if (this.applier.alarms.has(AlarmType.NOSPACE)) {
      if (growsDatabase(proposal)) throw Errors.noSpace();
      return;
    }
    if (this.quota.available(proposal)) return;
    if (!this.raisingNoSpace) {
      this.raisingNoSpace = true;
      this.logger.warn({ dbSizeBytes: this.store.dbSizeBytes().toString(), quotaBytes: this.config.quotaBackendBytes }, 'database space exceeded; raising NOSPACE');
      const raise: Proposal = { kind: 'alarm', action: AlarmAction.ACTIVATE, memberId: this.id, alarm: AlarmType.NOSPACE };
      this.propose(raise, { signal: new AbortController().signal, requireLeader: false })
        .catch((err: unknown) => this.logger.warn({ err }, 'raising the NOSPACE alarm failed'))
        .finally(() => {
          this.raisingNoSpace = false;
        });
    }
    throw Errors.noSpace();
  }

  /**
   * Maintenance.Defragment: rewrites LMDB without its free pages. The Ready loop (the only
   * writer) is held off meanwhile, as etcd blocks applies during its defrag.
   */
  async defragment(): Promise<void> {
    if (this.stopped) throw Errors.serverStopped();
    for (let waits = 0; this.loopRunning; waits += 1) {
      if (waits > 10_000) throw new Error('the Ready loop never went idle for defragment');
      await this.loopIdle;
    }
    this.loopRunning = true;
    try {
      await this.store.defragment();
    } finally {
      this.loopRunning = false;
      this.runLoop();
    }
  }

  isLearner(): boolean {
    return this.membership.get(this.id)?.isLearner ?? false;
  }

  /** KeepAlive lands on the leader: here if we lead, else forwarded over the peer link. */
  async keepAliveLease(leaseId: bigint, ctx: RequestContext): Promise<bigint> {
    await this.awaitLeader(ctx);
    if (this.isLeader()) return this.renewOnLeader(leaseId);
    if (this.transport === undefined) throw Errors.noLeader();
    return this.transport.forwardLeaseKeepAlive(this.leaderId, leaseId, ctx.signal);
  }

  /** Renews here (the leader); clears a stale checkpoint through Raft, as etcd does. */
  renewOnLeader(leaseId: bigint): bigint {
    const { ttlSeconds, hadCheckpoint } = this.lessor.renew(leaseId, this.clock.nowMs());
    if (hadCheckpoint) {
      const clear = { kind: 'leaseCheckpoint' as const, checkpoints: [{ leaseId, remainingSeconds: 0n }] };
      this.propose(clear, { signal: new AbortController().signal, requireLeader: true }).catch((err: unknown) =>
        this.logger.debug({ err }, 'clearing a lease checkpoint failed'),
      );
    }
    return ttlSeconds;
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
    failpoint('duringSnapshot');
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

  /**
   * Graceful stop: a leader first hands leadership to its most caught-up follower (so the
   * cluster does not wait an election timeout), then ticking stops, waiting requests fail,
   * and the persist in flight finishes.
   */
  async stop(): Promise<void> {
    if (!this.stopped && this.isLeader() && this.confState.voters.length > 1) {
      const heir = this.bestTransferee();
      if (heir !== undefined) {
        const moved = await this.transferLeadership(heir, 2 * this.config.electionTimeoutMs);
        this.logger.info({ to: heir.toString(16), moved }, 'leadership transfer on shutdown');
      }
    }
    if (this.ticker !== undefined) clearInterval(this.ticker);
    this.stopped = true;
    await this.loopIdle;
    this.waits.rejectAll(Errors.serverStopped);
    this.reads.failAll(Errors.serverStopped);
    for (const peer of [...this.outgoingSnapshots.keys()]) this.reportSnapshot(peer, false);
    await this.wal.close();
  }
}
