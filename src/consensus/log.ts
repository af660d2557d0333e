/**
 * The Raft log: stable entries in storage followed by the unstable tail.
 * Invariants: applied ≤ committed ≤ lastIndex(); firstIndex()-1 ≤ applied.
 */
import { CompactedError, UnavailableError } from './errors';
import { UnstableLog } from './log-unstable';
import { limitSize, type RaftStorage } from './storage';
import { EntryType, type Entry, type Snapshot } from './types';

export const NO_LIMIT = Number.MAX_SAFE_INTEGER;

export class RaftLog {
  readonly unstable: UnstableLog;
  /** Highest index known to be stored on a quorum. */
  committed: bigint;
  /** Highest index the application has applied (or was told to). */
  applied: bigint;

  constructor(readonly storage: RaftStorage) {
    const first = storage.firstIndex();
    const last = storage.lastIndex();
    this.unstable = new UnstableLog(last + 1n);
    this.committed = first - 1n;
    this.applied = first - 1n;
  }

  firstIndex(): bigint {
    return this.unstable.maybeFirstIndex() ?? this.storage.firstIndex();
  }

  lastIndex(): bigint {
    return this.unstable.maybeLastIndex() ?? this.storage.lastIndex();
  }

  lastTerm(): bigint {
    return this.term(this.lastIndex());
  }

  /** Term at index; 0 beyond the log; throws CompactedError below firstIndex()-1. */
  term(index: bigint): bigint {
    const dummy = this.firstIndex() - 1n;
    if (index < dummy) throw new CompactedError();
    if (index > this.lastIndex()) return 0n;
    const t = this.unstable.maybeTerm(index);
    if (t !== undefined) return t;
    return this.storage.term(index);
  }

  /** Like term(), but 0 for a compacted or unavailable index (matchTerm and hints use it). */
  termOrZero(index: bigint): bigint {
    try {
      return this.term(index);
    } catch (err) {
      if (err instanceof CompactedError || err instanceof UnavailableError) return 0n;
      throw err;
    }
  }

  matchTerm(index: bigint, term: bigint): boolean {
    return this.termOrZero(index) === term;
  }

  /** §5.4.1: a candidate's log is at least as up to date as ours. */
  isUpToDate(lastIndex: bigint, term: bigint): boolean {
    const ourTerm = this.lastTerm();
    return term > ourTerm || (term === ourTerm && lastIndex >= this.lastIndex());
  }

  /**
   * Follower side of MsgApp: if our log holds (index, logTerm), append the entries
   * (truncating conflicts) and advance commit. Returns the new last index, or undefined
   * when the log does not match.
   */
  maybeAppend(index: bigint, logTerm: bigint, committed: bigint, entries: Entry[]): bigint | undefined {
    if (!this.matchTerm(index, logTerm)) return undefined;
    const lastNewIndex = index + BigInt(entries.length);
    const conflict = this.findConflict(entries);
    if (conflict !== 0n) {
      if (conflict <= this.committed) throw new Error(`entry ${conflict} conflicts with committed entry [committed(${this.committed})]`);
      this.append(entries.slice(Number(conflict - (index + 1n))));
    }
    this.commitTo(committed < lastNewIndex ? committed : lastNewIndex);
    return lastNewIndex;
  }

  append(entries: Entry[]): bigint {
    if (entries.length === 0) return this.lastIndex();
    const after = entries[0].index - 1n;
    if (after < this.committed) throw new Error(`after(${after}) is out of range [committed(${this.committed})]`);
    this.unstable.truncateAndAppend(entries);
    return this.lastIndex();
  }

  /** Index of the first entry whose term differs from ours (or which is new); 0 if none. */
  findConflict(entries: Entry[]): bigint {
    for (const e of entries) {
      if (!this.matchTerm(e.index, e.term)) return e.index;
    }
    return 0n;
  }

  /**
   * Fast backtracking: the largest index ≤ index whose term ≤ term, with that term.
   * The leader can skip every entry above it in one round trip.
   */
  findConflictByTerm(index: bigint, term: bigint): [bigint, bigint] {
    for (let i = index; i > 0n; i--) {
      let ourTerm: bigint;
      try {
        ourTerm = this.term(i);
      } catch (err) {
        // Compacted: we cannot tell, so assume a possible match with unknown term.
        if (err instanceof CompactedError || err instanceof UnavailableError) return [i, 0n];
        throw err;
      }
      if (ourTerm <= term) return [i, ourTerm];
    }
    return [0n, 0n];
  }

  unstableEntries(): Entry[] {
    return this.unstable.entries;
  }

  /** Committed entries not yet applied (may include unstable ones persisted in the same Ready). */
  nextCommittedEntries(maxBytes: number = NO_LIMIT): Entry[] {
    const lo = this.applied + 1n > this.firstIndex() ? this.applied + 1n : this.firstIndex();
    if (this.committed + 1n > lo) return this.slice(lo, this.committed + 1n, maxBytes);
    return [];
  }

  hasNextCommittedEntries(): boolean {
    const lo = this.applied + 1n > this.firstIndex() ? this.applied + 1n : this.firstIndex();
    return this.committed + 1n > lo;
  }

  hasPendingSnapshot(): boolean {
    return this.unstable.snapshot !== undefined;
  }

  snapshot(): Snapshot {
    if (this.unstable.snapshot) return this.unstable.snapshot;
    return this.storage.snapshot();
  }

  commitTo(toCommit: bigint): void {
    if (this.committed >= toCommit) return; // never decrease
    if (this.lastIndex() < toCommit) {
      throw new Error(`tocommit(${toCommit}) is out of range [lastIndex(${this.lastIndex()})]`);
    }
    this.committed = toCommit;
  }

  appliedTo(index: bigint): void {
    if (index === 0n) return;
    if (this.committed < index || index < this.applied) {
      throw new Error(`applied(${index}) is out of range [prevApplied(${this.applied}), committed(${this.committed})]`);
    }
    this.applied = index;
  }

  stableTo(index: bigint, term: bigint): void {
    this.unstable.stableTo(index, term);
  }

  stableSnapTo(index: bigint): void {
    this.unstable.stableSnapTo(index);
  }

  /** Entries from index i on, up to maxBytes. Throws CompactedError if i is compacted. */
  entriesFrom(index: bigint, maxBytes: number): Entry[] {
    if (index > this.lastIndex()) return [];
    return this.slice(index, this.lastIndex() + 1n, maxBytes);
  }

  /** Leader: commit maxIndex if it is from the current term (§5.4.2). */
  maybeCommit(maxIndex: bigint, term: bigint): boolean {
    if (maxIndex > this.committed && this.termOrZero(maxIndex) === term) {
      this.commitTo(maxIndex);
      return true;
    }
    return false;
  }

  restore(snapshot: Snapshot): void {
    this.committed = snapshot.metadata.index;
    this.unstable.restore(snapshot);
  }

  /** Entries [lo, hi), limited to maxBytes (at least one). */
  slice(lo: bigint, hi: bigint, maxBytes: number = NO_LIMIT): Entry[] {
    this.checkOutOfBounds(lo, hi);
    if (lo === hi) return [];
    let entries: Entry[] = [];
    if (lo < this.unstable.offset) {
      const storedHi = hi < this.unstable.offset ? hi : this.unstable.offset;
      const stored = this.storage.entries(lo, storedHi, maxBytes);
      // Storage returned fewer than asked (size limit): do not add unstable entries.
      if (BigInt(stored.length) < storedHi - lo) return stored;
      entries = stored;
    }
    if (hi > this.unstable.offset) {
      const from = lo > this.unstable.offset ? lo : this.unstable.offset;
      entries = [...entries, ...this.unstable.slice(from, hi)];
    }
    return limitSize(entries, maxBytes);
  }

  private checkOutOfBounds(lo: bigint, hi: bigint): void {
    if (lo > hi) throw new Error(`invalid slice ${lo} > ${hi}`);
    const first = this.firstIndex();
    if (lo < first) throw new CompactedError();
    const length = this.lastIndex() + 1n - first;
    if (hi > first + length) throw new Error(`slice[${lo},${hi}) out of bound [${first},${this.lastIndex()}]`);
  }
}

/** Number of configuration-change entries among entries (a leader allows one in flight). */
export function countConfChanges(entries: Entry[]): number {
  let n = 0;
  for (const e of entries) if (e.type === EntryType.ConfChange) n++;
  return n;
}
