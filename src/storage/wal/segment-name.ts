/**
 * Segment files are `<seq 16 hex>-<first index 16 hex>.wal`. The first index is one past
 * the last entry index written before the segment was cut, so every entry in segment k has
 * index < firstIndex(k + 1); that is what makes releaseBefore and the replay start safe.
 */
import * as path from 'node:path';

export interface SegmentName {
  seq: bigint;
  firstIndex: bigint;
  path: string;
}

const SEGMENT_PATTERN = /^([0-9a-f]{16})-([0-9a-f]{16})\.wal$/;
export const TEMP_SUFFIX = '.tmp';

export function segmentFileName(seq: bigint, firstIndex: bigint): string {
  return `${hex64(seq)}-${hex64(firstIndex)}.wal`;
}

export function parseSegmentFileName(dir: string, name: string): SegmentName | undefined {
  const match = SEGMENT_PATTERN.exec(name);
  if (match === null) return undefined;
  return { seq: BigInt(`0x${match[1]}`), firstIndex: BigInt(`0x${match[2]}`), path: path.join(dir, name) };
}

/** Segments in `names`, by sequence number; throws if a sequence number is missing. */
export function sortedSegments(dir: string, names: string[]): SegmentName[] {
  const segments = names
    .map((name) => parseSegmentFileName(dir, name))
    .filter((segment): segment is SegmentName => segment !== undefined)
    .sort((a, b) => (a.seq < b.seq ? -1 : a.seq > b.seq ? 1 : 0));
  for (let i = 1; i < segments.length; i++) {
    if (segments[i].seq !== segments[i - 1].seq + 1n) {
      throw new Error(`WAL segment missing between ${segments[i - 1].path} and ${segments[i].path}; refusing to start`);
    }
  }
  return segments;
}

function hex64(value: bigint): string {
  if (value < 0n || value >= 1n << 64n) throw new Error(`segment name value out of range: ${value}`);
  return value.toString(16).padStart(16, '0');
}
