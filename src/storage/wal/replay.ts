/**
 * Replays segments into a WalRecovery: the latest hard state, and the entries after the
 * snapshot `from`, where a later record for index i replaces i and everything after it
 * (a new leader overwrote an uncommitted suffix). Reads only; repairing is the caller's.
 */
import * as fs from 'node:fs/promises';
import type { Entry, HardState, SnapshotMetadata } from '../../consensus/types';
import { emptyHardState } from '../../consensus/types';
import { decodeEntry, decodeHardState, decodeSnapshotMetadata } from './codec';
import { WalCorruptionError } from './errors';
import { RawRecord, RecordType } from './record';
import { scanSegment } from './segment-scan';
import type { SegmentName } from './segment-name';
import type { WalRecovery } from './types';

export interface ReplayResult {
  recovery: WalRecovery;
  /** Crc of the last valid record on disk: the next record chains from it. */
  lastCrc: number;
  /** Index of the last entry record on disk (or a later snapshot marker), for naming segments. */
  lastIndex: bigint;
  lastSegmentValidBytes: number;
  /** Where the last segment's torn write starts; bytes from there on are to be truncated. */
  torn: { offset: number; reason: string; fileBytes: number } | undefined;
}

/** The segment to replay from: the last one whose first index is ≤ the snapshot index. */
export function replayStart(segments: SegmentName[], from: SnapshotMetadata | undefined): number {
  if (segments.length === 0) throw new Error('replayStart: no segments');
  if (from === undefined) return 0;
  let start = -1;
  for (let i = 0; i < segments.length; i++) if (segments[i].firstIndex <= from.index) start = i;
  if (start < 0) {
    throw new Error(`WAL has no segment at or before snapshot index ${from.index} (oldest is ${segments[0].path}); refusing to start`);
  }
  return start;
}

class ReplayState {
  metadata: Uint8Array | undefined;
  hardState: HardState = emptyHardState();
  snapshot: SnapshotMetadata | undefined;
  readonly entries: Entry[] = [];
  lastIndex: bigint;
  private readonly startIndex: bigint;

  constructor(
    private readonly from: SnapshotMetadata | undefined,
    firstSegmentIndex: bigint,
  ) {
    this.startIndex = from?.index ?? 0n;
    this.lastIndex = firstSegmentIndex > 0n ? firstSegmentIndex - 1n : 0n;
  }

  apply(record: RawRecord, path: string, offset: number): void {
    switch (record.type) {
      case RecordType.CrcCarry:
        return;
      case RecordType.Metadata:
        return this.applyMetadata(record.payload, path, offset);
      case RecordType.Entry:
        return this.applyEntry(decodeEntry(record.payload), path, offset);
      case RecordType.HardState:
        this.hardState = decodeHardState(record.payload);
        return;
      case RecordType.SnapshotMarker:
        return this.applyMarker(decodeSnapshotMetadata(record.payload));
    }
  }

  private applyMetadata(payload: Uint8Array, path: string, offset: number): void {
    if (this.metadata === undefined) {
      this.metadata = Uint8Array.prototype.slice.call(payload);
    } else if (Buffer.compare(this.metadata, payload) !== 0) {
      throw new WalCorruptionError(path, offset, 'metadata differs from the metadata of earlier segments');
    }
  }

  private applyEntry(entry: Entry, path: string, offset: number): void {
    this.lastIndex = entry.index;
    if (entry.index <= this.startIndex) return;
    const position = Number(entry.index - this.startIndex - 1n);
    if (position > this.entries.length) {
      const have = this.startIndex + BigInt(this.entries.length);
      throw new Error(
        `WAL replay from index ${this.startIndex}: entry ${entry.index} in ${path} at offset ${offset} follows entry ${have} (gap); replay from a newer snapshot`,
      );
    }
    this.entries.length = position;
    this.entries.push(entry);
  }

  private applyMarker(marker: SnapshotMetadata): void {
    // As the writer does: segments cut after a marker are named above it.
    if (marker.index > this.lastIndex) this.lastIndex = marker.index;
    if (this.from === undefined || marker.index !== this.from.index) return;
    if (marker.term !== this.from.term) {
      throw new Error(`WAL snapshot marker at index ${marker.index} has term ${marker.term}, snapshot has term ${this.from.term}`);
    }
    this.snapshot = marker;
  }
}

export async function replaySegments(segments: SegmentName[], from: SnapshotMetadata | undefined): Promise<ReplayResult> {
  if (segments.length === 0) throw new Error('replaySegments: no segments');
  const state = new ReplayState(from, segments[0].firstIndex);
  let chainSeed: number | undefined;
  let lastSegmentValidBytes = 0;
  let torn: ReplayResult['torn'];
  for (let i = 0; i < segments.length; i++) {
    const { path } = segments[i];
    const bytes = await fs.readFile(path);
    const isLastSegment = i === segments.length - 1;
    const scan = scanSegment({ path, bytes, chainSeed, isLastSegment }, (record, offset) => state.apply(record, path, offset));
    chainSeed = scan.lastCrc;
    if (isLastSegment) {
      lastSegmentValidBytes = scan.validBytes;
      if (scan.torn !== undefined) torn = { ...scan.torn, fileBytes: bytes.length };
    }
  }
  if (from !== undefined && state.snapshot === undefined) {
    throw new Error(`WAL has no snapshot marker for index ${from.index} term ${from.term}; refusing to start`);
  }
  const recovery: WalRecovery = { metadata: state.metadata, hardState: state.hardState, snapshot: state.snapshot, entries: state.entries };
  if (chainSeed === undefined) throw new Error('replaySegments: no crc after replay');
  return { recovery, lastCrc: chainSeed, lastIndex: state.lastIndex, lastSegmentValidBytes, torn };
}
