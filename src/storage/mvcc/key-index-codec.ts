import type { Revision } from './revision';

/**
 * Keys of the key-index database: escaped(user key) ++ 8-byte BE main ++ 8-byte BE sub.
 *
 * The escaping is order-preserving and prefix-free (0x00 → 0x00 0xFF, terminator 0x00 0x01),
 * so entries sort by user key in bytewise order, then by revision: all versions of one key
 * are adjacent and ascending, and a user-key interval [a, b) maps to the index interval
 * [escaped(a), escaped(b)).
 */

const ESCAPE = 0x00;
const ESCAPED_ZERO = 0xff;
const TERMINATOR = 0x01;
const REVISION_BYTES = 16;

export function escapedKeyLength(key: Uint8Array): number {
  let zeros = 0;
  for (let i = 0; i < key.length; i++) if (key[i] === ESCAPE) zeros++;
  return key.length + zeros + 2;
}

function writeEscaped(key: Uint8Array, out: Buffer): number {
  let offset = 0;
  for (let i = 0; i < key.length; i++) {
    const byte = key[i];
    out[offset++] = byte;
    if (byte === ESCAPE) out[offset++] = ESCAPED_ZERO;
  }
  out[offset++] = ESCAPE;
  out[offset++] = TERMINATOR;
  return offset;
}

/** The escaped key with its terminator: every index entry of `key` starts with it. */
export function indexKeyPrefix(key: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(escapedKeyLength(key));
  writeEscaped(key, out);
  return out;
}

export function indexKey(key: Uint8Array, revision: Revision): Buffer {
  const out = Buffer.allocUnsafe(escapedKeyLength(key) + REVISION_BYTES);
  const offset = writeEscaped(key, out);
  out.writeBigUInt64BE(revision.main, offset);
  out.writeBigUInt64BE(revision.sub, offset + 8);
  return out;
}

export interface DecodedIndexKey extends Revision {
  key: Buffer;
}

export function decodeIndexKey(bytes: Uint8Array): DecodedIndexKey {
  const escapedEnd = bytes.length - REVISION_BYTES;
  if (escapedEnd < 2) throw new Error('index key too short');
  const key = Buffer.allocUnsafe(escapedEnd);
  let length = 0;
  let offset = 0;
  for (;;) {
    if (offset >= escapedEnd) throw new Error('index key without terminator');
    const byte = bytes[offset++];
    if (byte !== ESCAPE) {
      key[length++] = byte;
      continue;
    }
    const next = bytes[offset++];
    if (next === TERMINATOR) break;
    if (next !== ESCAPED_ZERO) throw new Error('index key with bad escape');
    key[length++] = ESCAPE;
  }
  if (offset !== escapedEnd) throw new Error('index key terminator not before revision');
  const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  return {
    key: key.subarray(0, length),
    main: view.readBigUInt64BE(escapedEnd),
    sub: view.readBigUInt64BE(escapedEnd + 8),
  };
}
