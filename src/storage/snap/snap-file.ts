/**
 * A snap file:
 *
 *   offset 0   u32 crc32c of everything after it
 *   offset 4   u32 length of the encoded metadata
 *   offset 8   metadata (index, term, conf state)
 *   then       payload (opaque: membership and the like; the state itself lives in LMDB)
 */
import type { SnapshotMetadata } from '../../consensus/types';
import { crc32c } from '../crc32c';
import { ByteReader, DecodeError } from '../wal/binary';
import { decodeSnapshotMetadata, encodeSnapshotMetadata } from '../wal/codec';

const SNAP_HEADER_BYTES = 8;

export function encodeSnapFile(metadata: SnapshotMetadata, payload: Uint8Array): Buffer {
  const encodedMetadata = encodeSnapshotMetadata(metadata);
  const file = Buffer.alloc(SNAP_HEADER_BYTES + encodedMetadata.length + payload.length);
  file.writeUInt32LE(encodedMetadata.length, 4);
  file.set(encodedMetadata, SNAP_HEADER_BYTES);
  file.set(payload, SNAP_HEADER_BYTES + encodedMetadata.length);
  file.writeUInt32LE(crc32c(file.subarray(4)), 0);
  return file;
}

/** Throws DecodeError when the file is damaged. */
export function decodeSnapFile(file: Buffer): { metadata: SnapshotMetadata; payload: Uint8Array } {
  if (file.length < SNAP_HEADER_BYTES) throw new DecodeError(`snap file of ${file.length} bytes`);
  const stored = file.readUInt32LE(0);
  const actual = crc32c(file.subarray(4));
  if (stored !== actual) throw new DecodeError(`crc mismatch (stored ${stored}, computed ${actual})`);
  const reader = new ByteReader(file.subarray(4));
  const metadataLength = reader.u32();
  const metadata = decodeSnapshotMetadata(reader.bytesOf(metadataLength));
  return { metadata, payload: reader.rest() };
}
