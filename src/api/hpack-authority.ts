import { huffmanDecode, HuffmanDecodeError } from './hpack-huffman';
import { HpackDecodeError, readInteger as readHpackInteger } from './h2/hpack-decoder';
import { encodeInteger } from './h2/hpack-encoder';

/**
 * Rewrites the `:authority` value inside one HPACK header block (RFC 7541) so that nghttp2
 * accepts it.
 *
 * Why: grpc-go sends `:authority: http://host:port` when dialled with a URL; nghttp2 (inside
 * Node) rejects '/' in an authority with RST_STREAM PROTOCOL_ERROR, real etcd accepts it.
 *
 * Invariant: the rewritten value has the same DECODED length as the original. The encoder
 * (client) and the decoder (nghttp2) each keep an HPACK dynamic table whose eviction depends on
 * entry sizes (name + value + 32); equal lengths keep both tables the same size, so every later
 * index the client sends still means the same entry for nghttp2 (with the fixed value).
 *
 * Limitation: only `:authority` named by static index 1 or by a literal name is recognised; a
 * name taken from a dynamic-table entry is left alone (grpc-go's encoder prefers the static
 * name index, so it never does that).
 */

/** The value nghttp2's authority check accepts in place of any invalid byte. */
export const AUTHORITY_REPLACEMENT_BYTE = 0x5f; // '_'

const STATIC_INDEX_AUTHORITY = 1;
const AUTHORITY_NAME = Buffer.from(':authority', 'latin1');

/**
 * nghttp2's VALID_AUTHORITY_CHARS (lib/nghttp2_http.c): RFC 3986 unreserved, sub-delims,
 * ':', '@', '[', ']' and '%'.
 */
const VALID_AUTHORITY = buildValidAuthority();

function buildValidAuthority(): Uint8Array {
  const valid = new Uint8Array(256);
  const allowed = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~!$&'()*+,;=:@[]%";
  for (let i = 0; i < allowed.length; i++) valid[allowed.charCodeAt(i)] = 1;
  return valid;
}

export function isValidAuthorityByte(byte: number): boolean {
  return VALID_AUTHORITY[byte] === 1;
}

/** The value with every invalid byte replaced (same length), or undefined if it is already valid. */
export function sanitizeAuthority(value: Uint8Array): Buffer | undefined {
  let fixed: Buffer | undefined;
  for (let i = 0; i < value.length; i++) {
    if (VALID_AUTHORITY[value[i]!] === 1) continue;
    fixed ??= Buffer.from(value);
    fixed[i] = AUTHORITY_REPLACEMENT_BYTE;
  }
  return fixed;
}

/** A block we cannot parse: it is forwarded unchanged and nghttp2 reports the error itself. */
class MalformedBlock extends Error {}

interface Cursor {
  pos: number;
}

/** RFC 7541 section 5.1 integer with an N-bit prefix, starting at cursor.pos (moved past it). */
function readInteger(block: Uint8Array, cursor: Cursor, prefixBits: number): number {
  try {
    const [value, next] = readHpackInteger(block, cursor.pos, prefixBits);
    cursor.pos = next;
    return value;
  } catch (error) {
    if (error instanceof HpackDecodeError) throw new MalformedBlock(error.message);
    throw error;
  }
}

interface StringLiteral {
  huffman: boolean;
  /** Raw (possibly Huffman-coded) bytes: a view into the block. */
  raw: Uint8Array;
}

/** RFC 7541 section 5.2 string literal (H bit + 7-bit-prefix length + bytes). */
function readString(block: Uint8Array, cursor: Cursor): StringLiteral {
  if (cursor.pos >= block.length) throw new MalformedBlock('truncated string');
  const huffman = (block[cursor.pos]! & 0x80) !== 0;
  const length = readInteger(block, cursor, 7);
  if (cursor.pos + length > block.length) throw new MalformedBlock('string runs past the block');
  const raw = block.subarray(cursor.pos, cursor.pos + length);
  cursor.pos += length;
  return { huffman, raw };
}

function decodeString(literal: StringLiteral): Uint8Array {
  try {
    return literal.huffman ? huffmanDecode(literal.raw) : literal.raw;
  } catch (error) {
    if (error instanceof HuffmanDecodeError) throw new MalformedBlock(error.message);
    throw error;
  }
}

function isAuthorityName(literal: StringLiteral): boolean {
  // A Huffman name is at least 5/8 of its decoded length: skip decoding obvious mismatches.
  if (literal.raw.length > AUTHORITY_NAME.length) return false;
  return AUTHORITY_NAME.equals(decodeString(literal));
}

/**
 * The header block with every invalid `:authority` value fixed (re-emitted as a plain,
 * non-Huffman literal of the same decoded length), or undefined when nothing needs to change
 * or the block cannot be parsed. All other bytes are copied unchanged.
 */
export function rewriteAuthorityInBlock(block: Uint8Array): Buffer | undefined {
  try {
    return rewrite(block);
  } catch (error) {
    if (error instanceof MalformedBlock) return undefined;
    throw error;
  }
}

function rewrite(block: Uint8Array): Buffer | undefined {
  const pieces: Uint8Array[] = [];
  let copiedUpTo = 0;
  const cursor: Cursor = { pos: 0 };
  while (cursor.pos < block.length) {
    const first = block[cursor.pos]!;
    if ((first & 0x80) !== 0) {
      readInteger(block, cursor, 7); // indexed header field
      continue;
    }
    if ((first & 0xe0) === 0x20) {
      readInteger(block, cursor, 5); // dynamic table size update
      continue;
    }
    // Literal: with incremental indexing (01, 6-bit index), without indexing (0000) or never
    // indexed (0001), both 4-bit.
    const nameIndex = readInteger(block, cursor, (first & 0x40) !== 0 ? 6 : 4);
    const isAuthority = nameIndex === 0 ? isAuthorityName(readString(block, cursor)) : nameIndex === STATIC_INDEX_AUTHORITY;
    const valueStart = cursor.pos;
    const value = readString(block, cursor);
    if (!isAuthority) continue;
    const fixed = sanitizeAuthority(decodeString(value));
    if (fixed === undefined) continue;
    pieces.push(block.subarray(copiedUpTo, valueStart), encodeInteger(fixed.length, 7, 0x00), fixed);
    copiedUpTo = cursor.pos;
  }
  if (pieces.length === 0) return undefined;
  pieces.push(block.subarray(copiedUpTo));
  return Buffer.concat(pieces);
}
