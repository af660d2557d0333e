/**
 * Revision keys of the history database, in etcd's exact byte layout (mvcc/revision.go):
 * 8-byte big-endian main, '_', 8-byte big-endian sub, plus a trailing 't' for a tombstone.
 * Byte order of these keys is (main, sub) order, so history scans are cursor ranges.
 */

export interface Revision {
  main: bigint;
  sub: bigint;
}

export const REVISION_KEY_BYTES = 17;
export const TOMBSTONE_REVISION_KEY_BYTES = 18;
const SEPARATOR = 0x5f; // '_'
const TOMBSTONE_MARK = 0x74; // 't'

export function revisionKey(main: bigint, sub: bigint, tombstone: boolean): Buffer {
  const out = Buffer.allocUnsafe(tombstone ? TOMBSTONE_REVISION_KEY_BYTES : REVISION_KEY_BYTES);
  out.writeBigUInt64BE(main, 0);
  out[8] = SEPARATOR;
  out.writeBigUInt64BE(sub, 9);
  if (tombstone) out[17] = TOMBSTONE_MARK;
  return out;
}

/** The smallest revision key with this main revision: a range bound. */
export function revisionKeyLowerBound(main: bigint): Buffer {
  return revisionKey(main < 0n ? 0n : main, 0n, false);
}

export interface ParsedRevisionKey extends Revision {
  tombstone: boolean;
}

export function parseRevisionKey(bytes: Uint8Array): ParsedRevisionKey {
  if (bytes.length !== REVISION_KEY_BYTES && bytes.length !== TOMBSTONE_REVISION_KEY_BYTES) {
    throw new Error(`revision key has ${bytes.length} bytes`);
  }
  const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  return {
    main: view.readBigUInt64BE(0),
    sub: view.readBigUInt64BE(9),
    tombstone: bytes.length === TOMBSTONE_REVISION_KEY_BYTES,
  };
}

export function compareRevisions(a: Revision, b: Revision): number {
  if (a.main !== b.main) return a.main < b.main ? -1 : 1;
  if (a.sub !== b.sub) return a.sub < b.sub ? -1 : 1;
  return 0;
}

/** 8-byte big-endian unsigned encoding used for meta counters and lease ids. */
export function uint64Bytes(value: bigint): Buffer {
  const out = Buffer.allocUnsafe(8);
  out.writeBigUInt64BE(BigInt.asUintN(64, value), 0);
  return out;
}

export function readInt64(bytes: Uint8Array, offset = 0): bigint {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).readBigInt64BE(offset);
}
