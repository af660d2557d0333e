import type { KeyValue } from './types';

/**
 * mvccpb.KeyValue protobuf encoding, byte-identical to what etcd (gogoproto) stores in its
 * "key" bucket: fields in number order, zero/empty fields omitted. HashKV depends on this.
 *   key=1:bytes create_revision=2:int64 mod_revision=3:int64 version=4:int64 value=5:bytes lease=6:int64
 */

const TAG_KEY = 0x0a;
const TAG_CREATE_REVISION = 0x10;
const TAG_MOD_REVISION = 0x18;
const TAG_VERSION = 0x20;
const TAG_VALUE = 0x2a;
const TAG_LEASE = 0x30;

const EMPTY = Buffer.alloc(0);

/** Bytes a varint takes; int64 values are sent as their 64-bit two's complement. */
function varintSize(value: bigint): number {
  let unsigned = BigInt.asUintN(64, value);
  let size = 1;
  while (unsigned >= 0x80n) {
    unsigned >>= 7n;
    size++;
  }
  return size;
}

function lengthPrefixedSize(length: number): number {
  return 1 + varintSize(BigInt(length)) + length;
}

function writeVarint(target: Buffer, offset: number, value: bigint): number {
  let unsigned = BigInt.asUintN(64, value);
  // Fast path for values that fit a JS number exactly.
  if (unsigned <= 0x1f_ffff_ffff_ffffn) {
    let small = Number(unsigned);
    while (small >= 0x80) {
      target[offset++] = (small % 0x80) | 0x80;
      small = Math.floor(small / 0x80);
    }
    target[offset++] = small;
    return offset;
  }
  while (unsigned >= 0x80n) {
    target[offset++] = Number(unsigned & 0x7fn) | 0x80;
    unsigned >>= 7n;
  }
  target[offset++] = Number(unsigned);
  return offset;
}

export function encodeKeyValue(kv: KeyValue): Buffer {
  let size = 0;
  if (kv.key.length > 0) size += lengthPrefixedSize(kv.key.length);
  if (kv.createRevision !== 0n) size += 1 + varintSize(kv.createRevision);
  if (kv.modRevision !== 0n) size += 1 + varintSize(kv.modRevision);
  if (kv.version !== 0n) size += 1 + varintSize(kv.version);
  if (kv.value.length > 0) size += lengthPrefixedSize(kv.value.length);
  if (kv.lease !== 0n) size += 1 + varintSize(kv.lease);

  const out = Buffer.allocUnsafe(size);
  let offset = 0;
  if (kv.key.length > 0) {
    out[offset++] = TAG_KEY;
    offset = writeVarint(out, offset, BigInt(kv.key.length));
    offset += kv.key.copy(out, offset);
  }
  if (kv.createRevision !== 0n) {
    out[offset++] = TAG_CREATE_REVISION;
    offset = writeVarint(out, offset, kv.createRevision);
  }
  if (kv.modRevision !== 0n) {
    out[offset++] = TAG_MOD_REVISION;
    offset = writeVarint(out, offset, kv.modRevision);
  }
  if (kv.version !== 0n) {
    out[offset++] = TAG_VERSION;
    offset = writeVarint(out, offset, kv.version);
  }
  if (kv.value.length > 0) {
    out[offset++] = TAG_VALUE;
    offset = writeVarint(out, offset, BigInt(kv.value.length));
    offset += kv.value.copy(out, offset);
  }
  if (kv.lease !== 0n) {
    out[offset++] = TAG_LEASE;
    offset = writeVarint(out, offset, kv.lease);
  }
  if (offset !== size) throw new Error(`KeyValue encoding size mismatch: ${offset} != ${size}`);
  return out;
}

interface VarintRead {
  value: bigint;
  next: number;
}

function readVarint(source: Uint8Array, offset: number): VarintRead {
  // Accumulate the low 28 bits in a number, then the rest as bigint (rarely needed).
  let low = 0;
  let shift = 0;
  for (let i = 0; i < 4; i++) {
    if (offset >= source.length) throw new Error('KeyValue decode: truncated varint');
    const byte = source[offset++];
    low |= (byte & 0x7f) << shift;
    if (byte < 0x80) return { value: BigInt(low >>> 0), next: offset };
    shift += 7;
  }
  let value = BigInt(low >>> 0);
  let bigShift = 28n;
  for (let i = 4; i < 10; i++) {
    if (offset >= source.length) throw new Error('KeyValue decode: truncated varint');
    const byte = source[offset++];
    value |= BigInt(byte & 0x7f) << bigShift;
    if (byte < 0x80) return { value: BigInt.asIntN(64, value), next: offset };
    bigShift += 7n;
  }
  throw new Error('KeyValue decode: varint longer than 10 bytes');
}

/** Decodes a stored KeyValue. The returned buffers are copies (safe to keep). */
export function decodeKeyValue(source: Uint8Array): KeyValue {
  const kv: KeyValue = { key: EMPTY, createRevision: 0n, modRevision: 0n, version: 0n, value: EMPTY, lease: 0n };
  let offset = 0;
  while (offset < source.length) {
    const tag = source[offset++];
    if (tag === TAG_KEY || tag === TAG_VALUE) {
      const length = readVarint(source, offset);
      const start = length.next;
      const end = start + Number(length.value);
      if (end > source.length) throw new Error('KeyValue decode: truncated bytes field');
      const bytes = Buffer.from(source.subarray(start, end));
      if (tag === TAG_KEY) kv.key = bytes;
      else kv.value = bytes;
      offset = end;
      continue;
    }
    const read = readVarint(source, offset);
    offset = read.next;
    switch (tag) {
      case TAG_CREATE_REVISION:
        kv.createRevision = read.value;
        break;
      case TAG_MOD_REVISION:
        kv.modRevision = read.value;
        break;
      case TAG_VERSION:
        kv.version = read.value;
        break;
      case TAG_LEASE:
        kv.lease = read.value;
        break;
      default:
        throw new Error(`KeyValue decode: unexpected tag ${tag}`);
    }
  }
  return kv;
}
