/**
 * The part of the Raft log not yet persisted by the caller: an optional incoming snapshot
 * and the entries after it. Invariant: entries[i].index === offset + i, and when a
 * snapshot is present, offset === snapshot.metadata.index + 1.
 */
import type { Entry, Snapshot } from './types';

export class UnstableLog {
  snapshot: Snapshot | undefined = undefined;
  entries: Entry[] = [];

  constructor(public offset: bigint) {}

  /** First index of the log if a snapshot is pending, else undefined (ask storage). */
  maybeFirstIndex(): bigint | undefined {
    return this.snapshot ? this.snapshot.metadata.index + 1n : undefined;
  }

  maybeLastIndex(): bigint | undefined {
    if (this.entries.length > 0) return this.offset + BigInt(this.entries.length) - 1n;
    return this.snapshot ? this.snapshot.metadata.index : undefined;
  }

  maybeTerm(index: bigint): bigint | undefined {
    if (index < this.offset) {
      if (this.snapshot && this.snapshot.metadata.index === index) return this.snapshot.metadata.term;
      return undefined;
    }
    const last = this.maybeLastIndex();
    if (last === undefined || index > last) return undefined;
    return this.entries[Number(index - this.offset)].term;
  }

  /** The caller persisted entries up to (index, term): drop them from here. */
  stableTo(index: bigint, term: bigint): void {
    const t = this.maybeTerm(index);
    // Only drop if the entry is still the one that was persisted (not replaced since).
    if (t === term && index >= this.offset) {
      this.entries = this.entries.slice(Number(index + 1n - this.offset));
      this.offset = index + 1n;
    }
  }

  stableSnapTo(index: bigint): void {
    if (this.snapshot && this.snapshot.metadata.index === index) this.snapshot = undefined;
  }

  restore(snapshot: Snapshot): void {
    this.offset = snapshot.metadata.index + 1n;
    this.entries = [];
    this.snapshot = snapshot;
  }

  truncateAndAppend(entries: Entry[]): void {
    if (entries.length === 0) return;
    const after = entries[0].index;
    const end = this.offset + BigInt(this.entries.length);
    if (after === end) {
      for (const e of entries) this.entries.push(e);
    } else if (after <= this.offset) {
      // Replace everything unstable; storage's suffix beyond `after` is truncated on persist.
      this.offset = after;
      this.entries = [...entries];
    } else {
      this.entries = [...this.slice(this.offset, after), ...entries];
    }
  }

  /** Entries [lo, hi) — both must be within the unstable range. */
  slice(lo: bigint, hi: bigint): Entry[] {
    const upper = this.offset + BigInt(this.entries.length);
    if (lo > hi || lo < this.offset || hi > upper) {
      throw new Error(`unstable.slice[${lo},${hi}) out of bound [${this.offset},${upper}]`);
    }
    return this.entries.slice(Number(lo - this.offset), Number(hi - this.offset));
  }
}
