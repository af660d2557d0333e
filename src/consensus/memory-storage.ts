/**
 * In-memory RaftStorage, like etcd's MemoryStorage. The caller mirrors into it what it has
 * made durable (WAL, snapshot files) so the core can read back its stable log.
 *
 * Invariant: entries[0] is a dummy entry at the snapshot's (index, term); real entries
 * follow contiguously, so firstIndex() = entries[0].index + 1.
 */
import { CompactedError, SnapshotOutOfDateError, UnavailableError } from './errors';
import { limitSize, type RaftStorage } from './storage';
import { emptyHardState, EntryType, type ConfState, type Entry, type HardState, type Snapshot } from './types';

const EMPTY = new Uint8Array(0);

export function emptySnapshot(): Snapshot {
  return { metadata: { index: 0n, term: 0n, confState: { voters: [], learners: [] } }, data: EMPTY };
}

export class MemoryStorage implements RaftStorage {
  private hardState: HardState = emptyHardState();
  private snap: Snapshot = emptySnapshot();
  private ents: Entry[] = [{ term: 0n, index: 0n, type: EntryType.Normal, data: EMPTY }];

  initialState(): { hardState: HardState; confState: ConfState } {
    const cs = this.snap.metadata.confState;
    return { hardState: { ...this.hardState }, confState: { voters: [...cs.voters], learners: [...cs.learners] } };
  }

  setHardState(hs: HardState): void {
    this.hardState = { ...hs };
  }

  entries(lo: bigint, hi: bigint, maxBytes: number): Entry[] {
    const offset = this.ents[0].index;
    if (lo <= offset) throw new CompactedError();
    if (hi > this.lastIndex() + 1n) throw new Error(`entries' hi(${hi}) is out of bound lastindex(${this.lastIndex()})`);
    if (this.ents.length === 1) throw new UnavailableError(); // only the dummy entry
    return limitSize(this.ents.slice(Number(lo - offset), Number(hi - offset)), maxBytes);
  }

  term(index: bigint): bigint {
    const offset = this.ents[0].index;
    if (index < offset) throw new CompactedError();
    if (index - offset >= BigInt(this.ents.length)) throw new UnavailableError();
    return this.ents[Number(index - offset)].term;
  }

  lastIndex(): bigint {
    return this.ents[0].index + BigInt(this.ents.length) - 1n;
  }

  firstIndex(): bigint {
    return this.ents[0].index + 1n;
  }

  snapshot(): Snapshot {
    return this.snap;
  }

  /** Replaces the whole log with a snapshot (received from the leader or loaded at restart). */
  applySnapshot(snapshot: Snapshot): void {
    if (this.snap.metadata.index >= snapshot.metadata.index) throw new SnapshotOutOfDateError();
    this.snap = snapshot;
    this.ents = [{ term: snapshot.metadata.term, index: snapshot.metadata.index, type: EntryType.Normal, data: EMPTY }];
  }

  /**
   * Records a snapshot of the applied state at `index` (≤ lastIndex). Call compact()
   * afterwards to drop the entries it covers.
   */
  createSnapshot(index: bigint, confState: ConfState, data: Uint8Array): Snapshot {
    if (index <= this.snap.metadata.index) throw new SnapshotOutOfDateError();
    if (index > this.lastIndex()) throw new Error(`snapshot ${index} is out of bound lastindex(${this.lastIndex()})`);
    const term = this.term(index);
    this.snap = { metadata: { index, term, confState: { voters: [...confState.voters], learners: [...confState.learners] } }, data };
    return this.snap;
  }

  /** Discards entries before compactIndex; compactIndex becomes the dummy entry. */
  compact(compactIndex: bigint): void {
    const offset = this.ents[0].index;
    if (compactIndex <= offset) throw new CompactedError();
    if (compactIndex > this.lastIndex()) throw new Error(`compact ${compactIndex} is out of bound lastindex(${this.lastIndex()})`);
    const i = Number(compactIndex - offset);
    const dummy: Entry = { term: this.ents[i].term, index: this.ents[i].index, type: EntryType.Normal, data: EMPTY };
    this.ents = [dummy, ...this.ents.slice(i + 1)];
  }

  /**
   * Appends entries, truncating any existing suffix they conflict with. Entries already
   * compacted away are skipped. The first new entry must not leave a gap.
   */
  append(entries: Entry[]): void {
    if (entries.length === 0) return;
    const first = this.firstIndex();
    const last = entries[entries.length - 1].index;
    if (last < first) return; // all already compacted
    let toAppend = entries;
    if (first > entries[0].index) toAppend = entries.slice(Number(first - entries[0].index));
    const offset = toAppend[0].index - this.ents[0].index;
    const length = BigInt(this.ents.length);
    if (offset > length) throw new Error(`missing log entry [last: ${this.lastIndex()}, append at: ${toAppend[0].index}]`);
    // Truncate the conflicting suffix (if any), then append in place: the common case is a
    // pure append, which must not copy the whole log.
    this.ents.length = Number(offset);
    for (const e of toAppend) this.ents.push(e);
  }
}
