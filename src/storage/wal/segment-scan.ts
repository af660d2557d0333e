/**
 * Walks the records of one segment, checking each record and the chain, and decides what a
 * failure means: in the last segment, a failure with nothing valid after it is a torn final
 * write (reported, to be truncated); anywhere else it is corruption (thrown).
 */
import { DecodeError } from './binary';
import { WalCorruptionError } from './errors';
import { anyValidRecordAfter, hex32, RawRecord, readRecordAt, RecordType } from './record';

export interface SegmentScan {
  /** Length of the valid prefix; equals the file size unless the tail is torn. */
  validBytes: number;
  /** Crc of the last valid record: the seed for the next record. */
  lastCrc: number;
  torn: { offset: number; reason: string } | undefined;
}

export interface ScanInput {
  path: string;
  bytes: Buffer;
  /** Crc the first record must chain from; undefined = trust it (first replayed segment). */
  chainSeed: number | undefined;
  isLastSegment: boolean;
}

export function scanSegment(input: ScanInput, visit: (record: RawRecord, offset: number) => void): SegmentScan {
  const { path, bytes, isLastSegment } = input;
  let crc = input.chainSeed;
  let offset = 0;
  let recordCount = 0;
  while (offset < bytes.length) {
    const read = readRecordAt(bytes, offset);
    if (!read.ok) {
      // The segment header is written to a temp file and renamed, so only data after a
      // complete header can be torn.
      if (isLastSegment && recordCount > 0 && !anyValidRecordAfter(bytes, offset)) {
        return { validBytes: offset, lastCrc: crcOrThrow(crc, path), torn: { offset, reason: read.reason } };
      }
      const why = isLastSegment ? 'with valid records after it' : 'in a segment that is not the last';
      throw new WalCorruptionError(path, offset, `${read.reason} ${why}`);
    }
    const record = read.record;
    checkPlacement(record, recordCount, path, offset);
    if (crc !== undefined && record.previousCrc !== crc) {
      throw new WalCorruptionError(path, offset, `crc chain broken (record chains from ${hex32(record.previousCrc)}, previous record is ${hex32(crc)})`);
    }
    visitChecked(visit, record, path, offset);
    crc = record.crc;
    offset = read.end;
    recordCount++;
  }
  if (recordCount === 0) throw new WalCorruptionError(path, 0, 'empty segment (no crc-carry record)');
  return { validBytes: offset, lastCrc: crcOrThrow(crc, path), torn: undefined };
}

function checkPlacement(record: RawRecord, recordCount: number, path: string, offset: number): void {
  const isCarry = record.type === RecordType.CrcCarry;
  if (recordCount === 0 && !isCarry) throw new WalCorruptionError(path, offset, 'segment does not begin with a crc-carry record');
  if (recordCount > 0 && isCarry) throw new WalCorruptionError(path, offset, 'crc-carry record in the middle of a segment');
}

function visitChecked(visit: (record: RawRecord, offset: number) => void, record: RawRecord, path: string, offset: number): void {
  try {
    visit(record, offset);
  } catch (error) {
    if (error instanceof DecodeError) throw new WalCorruptionError(path, offset, `undecodable record: ${error.message}`);
    throw error;
  }
}

function crcOrThrow(crc: number | undefined, path: string): number {
  if (crc === undefined) throw new Error(`scanSegment(${path}): no record read`);
  return crc;
}
