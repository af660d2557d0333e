/**
 * One WAL record on disk:
 *
 *   offset 0   u32 crc       crc32c(bytes[4 .. end], seed = previousCrc)
 *   offset 4   u32 previousCrc  the crc of the record before this one (the chain)
 *   offset 8   u32 payloadLength
 *   offset 12  u8  type
 *   offset 13  payload
 *
 * Storing previousCrc lets a reader check any record on its own (is it self-consistent?)
 * as well as in sequence (does previousCrc equal the crc of the record before it?). The
 * first is what tells a torn tail (nothing valid after the failure) from corruption in the
 * middle (a valid record follows the bad one).
 */
import { crc32c } from '../crc32c';

export const RecordType = {
  /** First record of every segment: carries the chain from the previous segment. Empty payload. */
  CrcCarry: 1,
  /** Opaque bytes given to Wal.create (cluster id, member id); repeated in every segment. */
  Metadata: 2,
  Entry: 3,
  HardState: 4,
  SnapshotMarker: 5,
} as const;
export type RecordTypeValue = (typeof RecordType)[keyof typeof RecordType];

export const RECORD_HEADER_BYTES = 13;
/** Larger than any request etcd accepts (1.5 MiB default) by far; bounds a corrupt length. */
export const MAX_RECORD_PAYLOAD_BYTES = 256 * 1024 * 1024;

export interface RawRecord {
  type: RecordTypeValue;
  crc: number;
  previousCrc: number;
  /** A view into the segment buffer. */
  payload: Uint8Array;
}

export function encodeRecord(type: RecordTypeValue, payload: Uint8Array, previousCrc: number): Buffer {
  if (payload.length > MAX_RECORD_PAYLOAD_BYTES) throw new Error(`WAL record of ${payload.length} bytes`);
  const frame = Buffer.allocUnsafe(RECORD_HEADER_BYTES + payload.length);
  frame.writeUInt32LE(previousCrc >>> 0, 4);
  frame.writeUInt32LE(payload.length, 8);
  frame.writeUInt8(type, 12);
  frame.set(payload, RECORD_HEADER_BYTES);
  frame.writeUInt32LE(crc32c(frame.subarray(4), previousCrc), 0);
  return frame;
}

/** The crc stored in an encoded record (what the next record chains from). */
export function crcOfEncoded(frame: Buffer): number {
  return frame.readUInt32LE(0);
}

export type FrameRead =
  | { ok: true; record: RawRecord; end: number }
  | { ok: false; truncated: boolean; reason: string };

function isRecordType(value: number): value is RecordTypeValue {
  return value >= RecordType.CrcCarry && value <= RecordType.SnapshotMarker;
}

/** Reads and checks the record at `offset` on its own (not its place in the chain). */
export function readRecordAt(bytes: Buffer, offset: number): FrameRead {
  const available = bytes.length - offset;
  if (available < RECORD_HEADER_BYTES) {
    return { ok: false, truncated: true, reason: `incomplete record header (${available} bytes)` };
  }
  const type = bytes.readUInt8(offset + 12);
  if (!isRecordType(type)) return { ok: false, truncated: false, reason: `invalid record type ${type}` };
  const payloadLength = bytes.readUInt32LE(offset + 8);
  if (payloadLength > MAX_RECORD_PAYLOAD_BYTES) {
    return { ok: false, truncated: false, reason: `invalid record length ${payloadLength}` };
  }
  const end = offset + RECORD_HEADER_BYTES + payloadLength;
  if (end > bytes.length) {
    return { ok: false, truncated: true, reason: `incomplete record (${payloadLength} byte payload, file ends first)` };
  }
  const crc = bytes.readUInt32LE(offset);
  const previousCrc = bytes.readUInt32LE(offset + 4);
  const actualCrc = crc32c(bytes.subarray(offset + 4, end), previousCrc);
  if (actualCrc !== crc) {
    return { ok: false, truncated: false, reason: `crc mismatch (stored ${hex32(crc)}, computed ${hex32(actualCrc)})` };
  }
  return { ok: true, end, record: { type, crc, previousCrc, payload: bytes.subarray(offset + RECORD_HEADER_BYTES, end) } };
}

/**
 * True when some self-consistent record starts after `offset`: then the failure at `offset`
 * is damage in the middle of the file, not a torn final write. Files are never preallocated
 * or reused, so nothing valid can lie past a genuinely torn tail.
 */
export function anyValidRecordAfter(bytes: Buffer, offset: number): boolean {
  for (let candidate = offset + 1; candidate + RECORD_HEADER_BYTES <= bytes.length; candidate++) {
    if (readRecordAt(bytes, candidate).ok) return true;
  }
  return false;
}

export function hex32(value: number): string {
  return `0x${(value >>> 0).toString(16).padStart(8, '0')}`;
}
