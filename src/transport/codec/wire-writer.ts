/**
 * Protobuf wire primitives for the peer transport's hand-written codec. Sizes are computed
 * before writing, so every message is written once into one exactly-sized buffer (no
 * fork/ldelim copies on the heartbeat and append hot path).
 */

export const WireType = { Varint: 0, Fixed64: 1, LengthDelimited: 2, Fixed32: 5 } as const;

const UINT32_MAX = 0xffffffffn;
const UINT64_MAX = 0xffffffffffffffffn;

/** Programmer error: a 64-bit field outside uint64's range cannot be encoded faithfully. */
export function assertUint64(value: bigint, field: string): void {
  if (value < 0n || value > UINT64_MAX) throw new RangeError(`${field} ${value} is not a uint64`);
}

export function varint32Size(value: number): number {
  if (value < 0x80) return 1;
  if (value < 0x4000) return 2;
  if (value < 0x200000) return 3;
  if (value < 0x10000000) return 4;
  return 5;
}

export function uint64Size(value: bigint): number {
  if (value <= UINT32_MAX) return varint32Size(Number(value));
  const high = Number(value >> 32n);
  const bits = 64 - Math.clz32(high);
  return Math.ceil(bits / 7);
}

export function tagSize(field: number): number {
  return varint32Size(field << 3);
}

/** Size of a length-delimited field (tag + length + payload). */
export function delimitedSize(field: number, payloadBytes: number): number {
  return tagSize(field) + varint32Size(payloadBytes) + payloadBytes;
}

/** int64 on the wire: negative values as their 64-bit two's complement. */
export function asUint64(value: bigint): bigint {
  return value < 0n ? BigInt.asUintN(64, value) : value;
}

/** Size of an int64 (or uint64) varint field; a zero value is left out. */
export function int64FieldSize(field: number, value: bigint): number {
  return value === 0n ? 0 : tagSize(field) + uint64Size(asUint64(value));
}

/** Size of a bytes field; an empty value is left out. */
export function bytesFieldSize(field: number, value: Uint8Array): number {
  return value.length === 0 ? 0 : delimitedSize(field, value.length);
}

/** Size of a bool field; false is left out. */
export function boolFieldSize(field: number, value: boolean): number {
  return value ? tagSize(field) + 1 : 0;
}

/** Writes into a buffer sized in advance; the caller asserts the final position. */
export class WireWriter {
  pos = 0;

  constructor(readonly buf: Buffer) {}

  /** Returns this, so a field reads as one chain: `writer.tag(1, VARINT).uint64(id)`. */
  tag(field: number, wireType: number): this {
    this.varint32((field << 3) | wireType);
    return this;
  }

  varint32(value: number): void {
    let rest = value >>> 0;
    while (rest > 0x7f) {
      this.buf[this.pos++] = (rest & 0x7f) | 0x80;
      rest >>>= 7;
    }
    this.buf[this.pos++] = rest;
  }

  uint64(value: bigint): void {
    if (value <= UINT32_MAX) {
      this.varint32(Number(value));
      return;
    }
    let low = Number(value & UINT32_MAX) >>> 0;
    let high = Number(value >> 32n) >>> 0;
    while (high !== 0) {
      this.buf[this.pos++] = (low & 0x7f) | 0x80;
      low = ((low >>> 7) | (high << 25)) >>> 0;
      high >>>= 7;
    }
    while (low > 0x7f) {
      this.buf[this.pos++] = (low & 0x7f) | 0x80;
      low >>>= 7;
    }
    this.buf[this.pos++] = low;
  }

  /** An int64 varint field (tag and value); a zero value is left out, as proto3 does. */
  int64Field(field: number, value: bigint): void {
    if (value !== 0n) this.tag(field, WireType.Varint).uint64(asUint64(value));
  }

  /** A bytes field (tag, length, bytes); an empty value is left out, as proto3 does. */
  bytesField(field: number, value: Uint8Array): void {
    if (value.length > 0) this.tag(field, WireType.LengthDelimited).bytes(value);
  }

  /** A bool field; false is left out, as proto3 does. */
  boolField(field: number, value: boolean): void {
    if (value) this.tag(field, WireType.Varint).varint32(1);
  }

  /** Bytes already encoded (a cached field record), copied as they are. */
  raw(encoded: Uint8Array): void {
    this.buf.set(encoded, this.pos);
    this.pos += encoded.length;
  }

  bytes(value: Uint8Array): void {
    this.varint32(value.length);
    this.buf.set(value, this.pos);
    this.pos += value.length;
  }

  /** Asserts the precomputed size matched what was written. */
  finish(): Buffer {
    if (this.pos !== this.buf.length) throw new Error(`codec size mismatch: wrote ${this.pos} of ${this.buf.length} bytes`);
    return this.buf;
  }
}
