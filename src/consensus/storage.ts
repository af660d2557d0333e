/**
 * The read side of the stable log the Raft core needs. Everything returned here has been
 * persisted by the caller (after a Ready). Implementations throw CompactedError for
 * indexes below firstIndex()-1 and UnavailableError above lastIndex().
 */
import type { ConfState, Entry, HardState, Snapshot } from './types';

export interface RaftStorage {
  initialState(): { hardState: HardState; confState: ConfState };
  /** Entries [lo, hi), at most maxBytes in total but always at least one if any exist. */
  entries(lo: bigint, hi: bigint, maxBytes: number): Entry[];
  /** Term of the entry at index; valid for firstIndex()-1 ≤ index ≤ lastIndex(). */
  term(index: bigint): bigint;
  firstIndex(): bigint;
  lastIndex(): bigint;
  snapshot(): Snapshot;
}

/** Approximate encoded size of an entry, for message size limits. */
export function entrySizeBytes(entry: Entry): number {
  return entry.data.length + 24;
}

/** Keeps a prefix of entries whose total size is ≤ maxBytes, but always at least one. */
export function limitSize(entries: Entry[], maxBytes: number): Entry[] {
  if (entries.length === 0) return entries;
  let size = entrySizeBytes(entries[0]);
  for (let i = 1; i < entries.length; i++) {
    size += entrySizeBytes(entries[i]);
    if (size > maxBytes) return entries.slice(0, i);
  }
  return entries;
}
