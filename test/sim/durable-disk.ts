/**
 * A member's simulated disk: an append-only WAL of records (hard state + entries, and
 * snapshot records) of which only a synced prefix is guaranteed to survive a crash, plus
 * the state machine's durable image (like LMDB: applies become durable only when flushed).
 * A crash keeps the synced prefix and, like a real page cache, a random prefix of the
 * unsynced tail.
 */
import { emptyHardState, type Entry, type HardState, type Snapshot } from '../../src/consensus';
import type { KvImage } from './kv-state-machine';
import type { Rng } from './rng';

export type WalRecord =
  | { kind: 'state'; hardState: HardState | undefined; entries: Entry[] }
  /** resetLog: a snapshot received from the leader replaces the whole log. */
  | { kind: 'snapshot'; snapshot: Snapshot; resetLog: boolean };

export interface RecoveredLog {
  snapshot: Snapshot | undefined;
  hardState: HardState;
  /** Entries after the snapshot, contiguous. */
  entries: Entry[];
}

const MAX_WAL_RECORDS = 100_000;

export class DurableDisk {
  private readonly wal: WalRecord[] = [];
  private synced = 0;
  /** The state machine as last flushed (undefined: never flushed, i.e. empty). */
  stateMachine: KvImage | undefined;

  append(record: WalRecord): void {
    if (this.wal.length >= MAX_WAL_RECORDS) throw new Error('simulated WAL grew past its bound');
    this.wal.push(record);
  }

  fsync(): void {
    this.synced = this.wal.length;
  }

  unsyncedRecords(): number {
    return this.wal.length - this.synced;
  }

  /** Power loss: the unsynced tail survives only up to a random point. Returns records lost. */
  crash(rng: Rng): number {
    const keep = this.synced + rng.int(this.wal.length - this.synced + 1);
    const lost = this.wal.length - keep;
    this.wal.length = keep;
    this.synced = keep;
    return lost;
  }

  /**
   * Replays the WAL the way a restarting member does: newest snapshot, last hard state,
   * entries after it. Like etcd (ValidSnapshotEntries) and our WAL's snapshotMarkers, a
   * snapshot record above the last saved commit index is not trusted: the crash may have
   * torn off the hard state written after it.
   */
  recover(): RecoveredLog {
    let snapshot: Snapshot | undefined;
    let hardState = emptyHardState();
    let entries: Entry[] = [];
    let savedCommit = 0n;
    for (const record of this.wal) if (record.kind === 'state' && record.hardState) savedCommit = record.hardState.commit;
    for (const record of this.wal) {
      if (record.kind === 'snapshot') {
        if (record.snapshot.metadata.index > savedCommit) continue;
        snapshot = record.snapshot;
        if (record.resetLog) entries = [];
        continue;
      }
      if (record.hardState) hardState = record.hardState;
      if (record.entries.length === 0) continue;
      const first = record.entries[0]!.index;
      // A later write at index i replaces the log from i on (a truncated conflicting suffix).
      const keep = entries.findIndex((e) => e.index >= first);
      if (keep >= 0) entries.length = keep;
      entries.push(...record.entries);
    }
    const snapIndex = snapshot?.metadata.index ?? 0n;
    entries = entries.filter((e) => e.index > snapIndex);
    for (let i = 1; i < entries.length; i++) {
      if (entries[i]!.index !== entries[i - 1]!.index + 1n) throw new Error(`recovered WAL has a gap at ${entries[i]!.index}`);
    }
    return { snapshot, hardState, entries };
  }
}
