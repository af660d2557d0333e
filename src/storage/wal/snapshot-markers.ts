/**
 * The snapshot markers recorded in a WAL, for choosing which snap file to start from (as
 * etcd's ValidSnapshotEntries): a snap file without a marker, or with a marker above the
 * latest saved commit index, is not one a replay can start from. Reads only; a torn tail
 * is tolerated (open will repair it), corruption throws.
 */
import * as fs from 'node:fs/promises';
import type { SnapshotMetadata } from '../../consensus/types';
import { decodeHardState, decodeSnapshotMetadata } from './codec';
import { RecordType } from './record';
import { scanSegment } from './segment-scan';
import { sortedSegments } from './segment-name';

export async function readSnapshotMarkers(dir: string): Promise<SnapshotMetadata[]> {
  const segments = sortedSegments(dir, await fs.readdir(dir));
  const markers: SnapshotMetadata[] = [];
  let commit = 0n;
  let chainSeed: number | undefined;
  for (let i = 0; i < segments.length; i++) {
    const { path } = segments[i];
    const bytes = await fs.readFile(path);
    const scan = scanSegment({ path, bytes, chainSeed, isLastSegment: i === segments.length - 1 }, (record) => {
      if (record.type === RecordType.SnapshotMarker) markers.push(decodeSnapshotMetadata(record.payload));
      if (record.type === RecordType.HardState) commit = decodeHardState(record.payload).commit;
    });
    chainSeed = scan.lastCrc;
  }
  return markers.filter((marker) => marker.index <= commit);
}
