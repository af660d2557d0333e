import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Logger } from '../log';
import { failpointAsync } from '../failpoints';
import type { Message } from '../consensus';
import type { ConfState, Snapshot } from '../consensus/types';
import type { MemberInfo } from '../api/member-port';
import type { PeerTransport } from '../transport/types';
import type { MvccStore } from '../storage/mvcc';
import type { OpenedStorage } from './bootstrap';
import type { MemberConfig } from './config';
import { encodeMembers } from './membership';
import { ReceivedSnapshotFiles } from './snapshot-files';
import { compareBigints } from '../compare-bigints';

const SNAPSHOTS_KEPT = 5;

/** What a snapshot is labelled with, read from the member when the snapshot is built. */
export interface SnapshotLabel {
  appliedIndex(): bigint;
  confState(): ConfState;
  members(): MemberInfo[];
}

/** The opened storage a member's snapshots are written to and read from. */
export type SnapshotStorage = Pick<OpenedStorage, 'wal' | 'snapshotter' | 'raftStorage' | 'snapDir' | 'snapshotIndex' | 'memberId'>;

/**
 * A member's snapshots, split out of member.ts because they are one job with their own
 * files and ordering rules: the database copies streamed to lagging followers, the images
 * received from a leader (kept durably until installed), persisting an adopted snapshot,
 * and the periodic snapshot that lets the WAL and the in-memory log be trimmed. Reloading
 * the member's in-memory state after an install stays with the member, which owns it.
 */
export class MemberSnapshots {
  private readonly receivedSnapshots: ReceivedSnapshotFiles;
  /** Database copies being streamed to followers, by peer: deleted when the send ends. */
  private readonly outgoingSnapshots = new Map<bigint, string>();
  private snapshotIndex: bigint;
  /** The periodic snapshot being written, if one is (see maybeSnapshot). */
  private writing: Promise<void> | undefined;

  /** `logger` is the member's own (component "member"): snapshot logs read as the member's. */
  constructor(
    private readonly storage: SnapshotStorage,
    private readonly store: MvccStore,
    private readonly config: Pick<MemberConfig, 'snapshotCount' | 'snapshotCatchupEntries'>,
    private readonly label: SnapshotLabel,
    private readonly logger: Logger,
  ) {
    this.receivedSnapshots = new ReceivedSnapshotFiles(storage.snapDir);
    this.snapshotIndex = storage.snapshotIndex;
  }

  /**
   * A follower is behind the compacted log: send it the whole database as it is now,
   * labelled with the applied index and the current configuration (etcd's merged
   * snapshot). Entries the copy already holds are skipped by the follower's consistent index.
   * `onFailed` is told (as the transport would be) when the copy could not be prepared.
   */
  async send(message: Message, transport: PeerTransport | undefined, onFailed: (peer: bigint) => void): Promise<void> {
    if (transport === undefined) return;
    const { store, label, logger } = this;
    const { raftStorage } = this.storage;
    const index = label.appliedIndex();
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'latchkey-send-')), 'db');
    try {
      await store.copyTo(file);
      const snapshot: Snapshot = {
        metadata: { index, term: raftStorage.term(index), confState: label.confState() },
        data: encodeMembers(label.members()),
      };
      this.outgoingSnapshots.set(message.to, file);
      logger.info({ to: message.to.toString(16), index: index.toString() }, 'sending snapshot');
      transport.sendSnapshot({ ...message, snapshot }, file);
    } catch (err) {
      logger.warn({ err, to: message.to.toString(16) }, 'could not prepare a snapshot for a follower');
      fs.rmSync(path.dirname(file), { recursive: true, force: true });
      onFailed(message.to);
    }
  }

  /** A send to `peer` ended: its database copy can go. */
  releaseSent(peer: bigint): void {
    const file = this.outgoingSnapshots.get(peer);
    if (file !== undefined) {
      this.outgoingSnapshots.delete(peer);
      fs.rmSync(path.dirname(file), { recursive: true, force: true });
    }
  }

  /** Peers a snapshot is being streamed to. */
  sendingTo(): bigint[] {
    return [...this.outgoingSnapshots.keys()];
  }

  /** An InstallSnapshot arrived: keep its database image durably before Raft sees it. */
  async keepReceived(message: Message, file: string): Promise<void> {
    const index = message.snapshot?.metadata.index;
    if (index === undefined) throw new Error('snapshot message without a snapshot');
    await this.receivedSnapshots.keep(index, file);
  }

  /**
   * Raft adopted a snapshot: record it (WAL marker first) and replace the state machine with
   * the received database. The caller then reloads what lives beside it in memory.
   */
  async persistAdopted(snapshot: Snapshot): Promise<void> {
    const { wal, snapshotter, raftStorage } = this.storage;
    const { store } = this;
    const { metadata } = snapshot;
    const file = this.receivedSnapshots.find(metadata.index);
    if (file === undefined) throw new Error(`Raft adopted snapshot ${metadata.index} but its database image never arrived`);
    await wal.saveSnapshotMarker(metadata);
    await snapshotter.save(metadata, snapshot.data);
    raftStorage.applySnapshot(snapshot);
    await store.restoreFrom(file);
    this.receivedSnapshots.removeUpTo(metadata.index);
  }

  /** The member finished installing the snapshot at `index`: the next one counts from it. */
  installedAt(index: bigint): void {
    this.snapshotIndex = index;
  }

  /**
   * Every --snapshot-count applied entries, starts a snapshot: labelled now (applied index,
   * configuration, members), written in the background — LMDB made durable, WAL marker,
   * snap file, then the in-memory log trimmed to the catch-up window and WAL segments the
   * previous snapshot covers deleted. The Ready loop goes on meanwhile, as etcd writes its
   * snapshot in a goroutine: awaited in the loop, the LMDB sync and two fsyncs stalled every
   * request for their whole duration each --snapshot-count entries (a put's p99 at 64 clients
   * was 1.14x of what it is without snapshots). One is written at a time; `onFailure` gets a
   * failed one (the member stops, as for any other storage failure).
   */
  maybeSnapshot(onFailure: (err: unknown) => void): void {
    const { label } = this;
    if (this.writing !== undefined || label.appliedIndex() < this.nextSnapshotAt()) return;
    const index = label.appliedIndex();
    const { voters, learners } = label.confState();
    const written = this.writeSnapshot(index, { voters: [...voters], learners: [...learners] }, encodeMembers(label.members()));
    this.writing = written.then(
      () => {
        this.writing = undefined;
      },
      (err: unknown) => {
        this.writing = undefined;
        onFailure(err);
      },
    );
  }

  /**
   * Every --snapshot-count entries after the last snapshot. The first one comes earlier by
   * this member's share of the interval (the k-th of n voters by id: k/n of it), so members
   * that start together do not all snapshot at the same index: each snapshot syncs the
   * database's pages written since the one before, tens of MB, and three members doing that
   * at once on a shared disk made every WAL fdatasync wait 10-40 ms. A lone member is first.
   */
  private nextSnapshotAt(): bigint {
    const count = BigInt(this.config.snapshotCount);
    if (this.snapshotIndex > 0n) return this.snapshotIndex + count;
    const voters = [...this.label.confState().voters].sort(compareBigints);
    const position = voters.indexOf(this.storage.memberId);
    if (position <= 0) return count;
    return count - (count * BigInt(position)) / BigInt(voters.length);
  }

  /**
   * Resolves once no snapshot is being written. Whatever replaces or closes the store or the
   * WAL (installing a received snapshot, a reopen, defragment, stop) waits for it first.
   */
  idle(): Promise<void> {
    return this.writing ?? Promise.resolve();
  }

  private async writeSnapshot(index: bigint, confState: ConfState, members: Uint8Array): Promise<void> {
    const { store, logger } = this;
    const { raftStorage, wal, snapshotter } = this.storage;
    // The database must hold `index` on disk before a marker or snap file says it does.
    await store.flushed();
    const snapshot = raftStorage.createSnapshot(index, confState, members);
    // Marker first: a snap file is only trusted at start when the WAL has its marker.
    await wal.saveSnapshotMarker(snapshot.metadata);
    await failpointAsync('duringSnapshot');
    await snapshotter.save(snapshot.metadata, snapshot.data);
    const compactTo = index - BigInt(this.config.snapshotCatchupEntries);
    if (compactTo > raftStorage.firstIndex()) raftStorage.compact(compactTo);
    // Keep the WAL back to the previous snapshot, so a damaged newest snap file can fall
    // back to the one before it and still replay without a gap.
    await wal.releaseBefore(this.snapshotIndex);
    await snapshotter.purge(SNAPSHOTS_KEPT);
    this.snapshotIndex = index;
    logger.info({ index: index.toString() }, 'saved snapshot');
  }
}
