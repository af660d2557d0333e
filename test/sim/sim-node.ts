/**
 * One simulated member: the real RawNode over a MemoryStorage, driven the way
 * src/server/member.ts drives it (ready → persist to the WAL → append to MemoryStorage →
 * send → apply committed entries → advance → maybe snapshot), with a simulated disk.
 *
 * Persisting is split in two so crashes can land in between: startReady() writes the
 * Ready's records to the WAL (unsynced); if the Ready needs an fsync, the node waits for
 * the scheduler to sync() it, and only then appends, sends, applies and advances. A crash
 * drops everything in memory and the unsynced WAL tail; restart() rebuilds exactly as a
 * restarting member does (snapshot, hard state, entries; Raft's applied = snapshot index;
 * the state machine from its durable image, skipping what it already holds).
 */
import {
  ConfChangeType,
  decodeConfChange,
  encodeConfChange,
  EntryType,
  MemoryStorage,
  MessageType,
  RawNode,
  type ConfChangeTypeValue,
  type ConfState,
  type Entry,
  type Message,
  type NodeId,
  type ReadState,
  type Ready,
  type Snapshot,
} from '../../src/consensus';
import type { Raft } from '../../src/consensus/raft';
import { DurableDisk } from './durable-disk';
import { KvStateMachine } from './kv-state-machine';
import type { Rng } from './rng';

/** What the invariant checker is told as the node works. */
export interface NodeObserver {
  /** Entries were appended to the node's stable log (after the append). */
  onAppend(node: SimNode, entries: readonly Entry[]): void;
  /** The state machine applied an entry (not called for replay skips). */
  onApply(node: SimNode, entry: Entry, sm: KvStateMachine): void;
  /** The state machine was replaced by a snapshot image or loaded from disk. */
  onStateMachineLoaded(node: SimNode, sm: KvStateMachine): void;
  onReadState(node: SimNode, rs: ReadState): void;
  onConfChangeApplied(node: SimNode, type: number, target: NodeId): void;
}

export interface SimNodeOptions {
  electionTicks: number;
  /** The member runs with both on; some seeds turn both off to cover the core's plain paths. */
  preVoteAndCheckQuorum: boolean;
  maxInflightMessages: number;
  maxEntriesBytesPerMessage: number;
  /** Applied entries between snapshots (member's --snapshot-count). */
  snapshotCount: number;
  /** Entries kept before a snapshot for slow followers (member's snapshotCatchupEntries). */
  catchupEntries: number;
}

export class SimNode {
  readonly disk = new DurableDisk();
  up = false;
  /** Permanently stopped (removed from the cluster). */
  removed = false;
  /** Bumped on every start: messages and reports to an older incarnation are stale. */
  incarnation = 0;
  raw!: RawNode;
  storage!: MemoryStorage;
  sm!: KvStateMachine;
  /** A Ready whose WAL records await an fsync. */
  pending: Ready | undefined;
  private snapshotIndex = 0n;
  private confState: ConfState = { voters: [], learners: [] };
  private raftApplied = 0n;

  constructor(
    readonly id: NodeId,
    private readonly options: SimNodeOptions,
    private readonly observer: NodeObserver,
  ) {}

  /** The core behind the RawNode, read-only, for the invariant checker. */
  core(): Raft {
    return (this.raw as unknown as { raft: Raft }).raft;
  }

  /** A new cluster's member: its WAL starts with one committed AddNode entry per initial member (as bootstrap.ts writes). */
  bootstrapDisk(initialMembers: readonly NodeId[]): void {
    const entries: Entry[] = initialMembers.map((id, i) => ({
      term: 1n,
      index: BigInt(i + 1),
      type: EntryType.ConfChange,
      data: encodeConf(ConfChangeType.AddNode, id),
    }));
    this.disk.append({ kind: 'state', hardState: { term: 1n, vote: 0n, commit: BigInt(entries.length) }, entries });
    this.disk.fsync();
  }

  start(rng: Rng): void {
    if (this.up || this.removed) throw new Error(`node ${this.id} cannot start (up=${this.up}, removed=${this.removed})`);
    const recovered = this.disk.recover();
    this.storage = new MemoryStorage();
    this.confState = { voters: [], learners: [] };
    this.snapshotIndex = 0n;
    if (recovered.snapshot) {
      this.storage.applySnapshot(recovered.snapshot);
      this.snapshotIndex = recovered.snapshot.metadata.index;
      this.confState = copyConfState(recovered.snapshot.metadata.confState);
    }
    this.storage.setHardState(recovered.hardState);
    this.storage.append(recovered.entries);
    this.sm = this.disk.stateMachine ? KvStateMachine.fromImage(this.disk.stateMachine) : new KvStateMachine();
    if (this.sm.appliedIndex < this.snapshotIndex) {
      throw new Error(`node ${this.id}: durable state machine (${this.sm.appliedIndex}) is behind its snapshot (${this.snapshotIndex})`);
    }
    this.raftApplied = this.snapshotIndex;
    const random = rng.fork();
    this.raw = new RawNode({
      id: this.id,
      electionTicks: this.options.electionTicks,
      heartbeatTicks: 1,
      storage: this.storage,
      applied: this.snapshotIndex,
      random: () => random.next(),
      preVote: this.options.preVoteAndCheckQuorum,
      checkQuorum: this.options.preVoteAndCheckQuorum,
      maxInflightMessages: this.options.maxInflightMessages,
      maxEntriesBytesPerMessage: this.options.maxEntriesBytesPerMessage,
    });
    this.pending = undefined;
    this.up = true;
    this.incarnation++;
    this.observer.onAppend(this, recovered.entries);
    this.observer.onStateMachineLoaded(this, this.sm);
  }

  /** Power loss. Returns the number of unsynced WAL records lost. */
  crash(rng: Rng): number {
    if (!this.up) throw new Error(`node ${this.id} is not up`);
    this.up = false;
    this.pending = undefined;
    return this.disk.crash(rng);
  }

  /** Stops the node for good (it was removed from the cluster). */
  remove(): void {
    this.up = false;
    this.removed = true;
    this.pending = undefined;
  }

  /**
   * Takes the next Ready and writes it to the WAL. Returns the messages to send if the
   * Ready completed now (no fsync needed), or undefined if it waits for sync().
   */
  startReady(): Message[] | undefined {
    if (!this.up || this.pending) throw new Error(`node ${this.id}: startReady while down or pending`);
    const rd = this.raw.ready();
    if (rd.snapshot) {
      // Like etcd: the received state machine image replaces the (durable) database before
      // the WAL snapshot record is written and synced.
      this.sm = KvStateMachine.decode(rd.snapshot.data);
      this.disk.stateMachine = this.sm.image();
      this.observer.onStateMachineLoaded(this, this.sm);
      this.disk.append({ kind: 'snapshot', snapshot: rd.snapshot, resetLog: true });
      this.disk.fsync();
    }
    if (rd.hardState !== undefined || rd.entries.length > 0) {
      this.disk.append({ kind: 'state', hardState: rd.hardState, entries: rd.entries });
    }
    if (rd.mustSync || rd.snapshot) {
      this.pending = rd;
      return undefined;
    }
    return this.finishReady(rd);
  }

  /** The fsync completed: finish the pending Ready. Returns the messages to send. */
  sync(): Message[] {
    const rd = this.pending;
    if (!this.up || !rd) throw new Error(`node ${this.id}: nothing to sync`);
    this.disk.fsync();
    this.pending = undefined;
    return this.finishReady(rd);
  }

  private finishReady(rd: Ready): Message[] {
    if (rd.snapshot) this.installSnapshot(rd.snapshot);
    if (rd.hardState !== undefined) this.storage.setHardState(rd.hardState);
    if (rd.entries.length > 0) {
      this.storage.append(rd.entries);
      this.observer.onAppend(this, rd.entries);
    }
    const messages = rd.messages.map((m) => (m.type === MessageType.Snap ? { ...m, snapshot: this.freshSnapshot() } : m));
    this.applyCommitted(rd.committedEntries);
    for (const rs of rd.readStates) this.observer.onReadState(this, rs);
    this.raw.advance(rd);
    this.maybeSnapshot();
    return messages;
  }

  private installSnapshot(snapshot: Snapshot): void {
    this.storage.applySnapshot(snapshot);
    this.snapshotIndex = snapshot.metadata.index;
    this.raftApplied = snapshot.metadata.index;
    this.confState = copyConfState(snapshot.metadata.confState);
  }

  /**
   * Like the member's sendSnapshot: a follower is sent the current state (applied index,
   * current configuration, state machine image) rather than the last stored snapshot, so a
   * member added since that snapshot finds itself in the configuration.
   */
  private freshSnapshot(): Snapshot {
    const index = this.raftApplied;
    return {
      metadata: { index, term: this.storage.term(index), confState: copyConfState(this.confState) },
      data: this.sm.encode(),
    };
  }

  /** The member's apply: conf changes always reach Raft; the state machine skips what it holds. */
  private applyCommitted(entries: readonly Entry[]): void {
    for (const entry of entries) {
      if (entry.index !== this.raftApplied + 1n) {
        throw new Error(`node ${this.id}: committed entry ${entry.index} does not follow applied ${this.raftApplied}`);
      }
      if (entry.type === EntryType.ConfChange) {
        const cc = decodeConfChange(entry.data);
        this.confState = this.raw.applyConfChange(cc);
        this.observer.onConfChangeApplied(this, cc.type, cc.nodeId);
      }
      if (this.sm.apply(entry)) this.observer.onApply(this, entry, this.sm);
      this.raftApplied = entry.index;
    }
  }

  /** The state machine's volatile applies become durable (LMDB commit reaching disk). */
  flushStateMachine(): void {
    this.disk.stateMachine = this.sm.image();
  }

  /** Every snapshotCount applied entries (member's maybeSnapshot): flush, record the snapshot durably, trim the log. */
  private maybeSnapshot(): void {
    const index = this.raftApplied;
    if (index - this.snapshotIndex < BigInt(this.options.snapshotCount)) return;
    this.flushStateMachine();
    const snapshot = this.storage.createSnapshot(index, this.confState, this.sm.encode());
    this.disk.append({ kind: 'snapshot', snapshot, resetLog: false });
    this.disk.fsync();
    this.snapshotIndex = index;
    const compactTo = index - BigInt(this.options.catchupEntries);
    if (compactTo > this.storage.firstIndex()) this.storage.compact(compactTo);
  }

  /** Raft's applied index (the member's appliedIndex). */
  applied(): bigint {
    return this.raftApplied;
  }

  members(): ConfState {
    return this.confState;
  }
}

export function encodeConf(type: ConfChangeTypeValue, nodeId: NodeId): Uint8Array {
  return encodeConfChange({ type, nodeId, context: new Uint8Array(0) });
}

function copyConfState(cs: ConfState): ConfState {
  return { voters: [...cs.voters], learners: [...cs.learners] };
}
