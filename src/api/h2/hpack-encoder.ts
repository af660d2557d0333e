import type * as http2 from 'node:http2';
import { STATIC_TABLE } from './hpack-static-table';

/** Static-table index of each name (its first entry), for literal fields with an indexed name. */
const STATIC_NAME_INDEX = new Map<string, number>();
for (let index = STATIC_TABLE.length - 1; index >= 1; index--) STATIC_NAME_INDEX.set(STATIC_TABLE[index]![0], index);
/** `:status: 200`, the one fully indexed field answers need (static index 8). */
const STATUS_200_INDEXED = 0x88;

/** Blocks of header objects that never change (registered with constantHeaders). */
const CONSTANT_BLOCKS = new WeakMap<object, Buffer>();

/**
 * Freezes `headers` and encodes it once: the answer headers and OK trailers every call sends
 * then cost no encoding per call.
 */
export function constantHeaders<T extends http2.OutgoingHttpHeaders>(headers: T): Readonly<T> {
  Object.freeze(headers);
  CONSTANT_BLOCKS.set(headers, encodeHeaderBlock(headers));
  return headers;
}

/** The block of `headers`: encoded once for constant ones, else now. */
export function headerBlockOf(headers: http2.OutgoingHttpHeaders): Buffer {
  return CONSTANT_BLOCKS.get(headers) ?? encodeHeaderBlock(headers);
}

/**
 * Encodes answer headers as an HPACK block of literals without indexing (RFC 7541 6.2.2):
 * no dynamic table, so our blocks never change the client's decoding context, and nothing
 * is Huffman-coded (optional in HPACK, and these blocks are a few dozen octets).
 */
export function encodeHeaderBlock(headers: http2.OutgoingHttpHeaders): Buffer {
  const parts: number[] = [];
  for (const name of Object.keys(headers)) {
    const raw = headers[name];
    if (raw === undefined) continue;
    const lower = name.toLowerCase();
    const values = Array.isArray(raw) ? raw : [raw];
    for (const item of values) {
      const value = String(item);
      if (lower === ':status' && value === '200') {
        parts.push(STATUS_200_INDEXED);
        continue;
      }
      const nameIndex = STATIC_NAME_INDEX.get(lower);
      if (nameIndex === undefined) {
        parts.push(0x00);
        pushString(parts, lower);
      } else {
        pushInteger(parts, nameIndex, 4, 0x00);
      }
      pushString(parts, value);
    }
  }
  return Buffer.from(parts);
}

/** RFC 7541 5.1: `value` with an N-bit prefix, the first octet's other bits set to `flags`. */
function pushInteger(out: number[], value: number, prefixBits: number, flags: number): void {
  const max = (1 << prefixBits) - 1;
  if (value < max) {
    out.push(flags | value);
    return;
  }
  out.push(flags | max);
  let rest = value - max;
  while (rest >= 0x80) {
    out.push((rest % 0x80) | 0x80);
    rest = Math.floor(rest / 0x80);
  }
  out.push(rest);
}

/** The same as its own buffer (the :authority rewriter splices it into a block). */
export function encodeInteger(value: number, prefixBits: number, flags: number): Buffer {
  if (!Number.isSafeInteger(value) || value < 0) throw new Error(`cannot HPACK-encode ${value}`);
  const out: number[] = [];
  pushInteger(out, value, prefixBits, flags);
  return Buffer.from(out);
}

/** A raw (not Huffman-coded) string literal; header octets are latin1, as node:http2 sends them. */
function pushString(out: number[], text: string): void {
  pushInteger(out, text.length, 7, 0x00);
  for (let index = 0; index < text.length; index++) out.push(text.charCodeAt(index) & 0xff);
}
