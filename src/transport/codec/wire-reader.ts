import { WireType } from './wire-writer';

/** Bytes from a peer that do not decode: the stream or call carrying them is refused. */
export class WireDecodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WireDecodeError';
  }
}

const MAX_VARINT_BYTES = 10;

/** Reads protobuf wire primitives from `buf[pos, end)`; every read is bounds-checked. */
export class WireReader {
  constructor(
    readonly buf: Uint8Array,
    public pos = 0,
    readonly end = buf.length,
  ) {}

  /** Asserts a field's wire type before reading it: `entry.term = reader.expect(wt, VARINT, 'term').uint64()`. */
  expect(actual: number, expected: number, field: string): this {
    expectWireType(actual, expected, field);
    return this;
  }

  get done(): boolean {
    return this.pos >= this.end;
  }

  private byte(): number {
    if (this.pos >= this.end) throw new WireDecodeError('truncated message');
    return this.buf[this.pos++]!;
  }

  /** A varint truncated to its low 32 bits (tags, lengths, enums, bools). */
  varint32(): number {
    let value = 0;
    for (let i = 0; i < MAX_VARINT_BYTES; i++) {
      const b = this.byte();
      if (i < 5) value |= (b & 0x7f) << (7 * i);
      if ((b & 0x80) === 0) return value >>> 0;
    }
    throw new WireDecodeError('varint longer than 10 bytes');
  }

  uint64(): bigint {
    let low = 0;
    let high = 0;
    for (let i = 0; i < MAX_VARINT_BYTES; i++) {
      const b = this.byte();
      const bits = b & 0x7f;
      if (i < 4) low |= bits << (7 * i);
      else if (i === 4) {
        low |= bits << 28;
        high |= bits >>> 4;
      } else high |= bits << (7 * i - 32);
      if ((b & 0x80) === 0) {
        low >>>= 0;
        high >>>= 0;
        return high === 0 ? BigInt(low) : (BigInt(high) << 32n) | BigInt(low);
      }
    }
    throw new WireDecodeError('varint longer than 10 bytes');
  }

  int64(): bigint {
    return BigInt.asIntN(64, this.uint64());
  }

  bool(): boolean {
    return this.uint64() !== 0n;
  }

  /** A view into the input: callers that keep the bytes copy them. */
  bytesView(): Uint8Array {
    const length = this.varint32();
    const start = this.pos;
    if (length > this.end - start) throw new WireDecodeError('length-delimited field overruns the message');
    this.pos = start + length;
    return this.buf.subarray(start, start + length);
  }

  /**
   * A fresh Buffer (the member decodes entries with Buffer methods), copied so a retained
   * entry does not pin the whole received frame.
   */
  bytesCopy(): Buffer {
    return Buffer.from(this.bytesView());
  }

  string(): string {
    const view = this.bytesView();
    return Buffer.from(view.buffer, view.byteOffset, view.byteLength).toString('utf8');
  }

  /** A reader over a nested message's bytes; this reader moves past it. */
  nested(): WireReader {
    const length = this.varint32();
    const start = this.pos;
    if (length > this.end - start) throw new WireDecodeError('nested message overruns its parent');
    this.pos = start + length;
    return new WireReader(this.buf, start, start + length);
  }

  skip(wireType: number): void {
    switch (wireType) {
      case WireType.Varint:
        this.uint64();
        return;
      case WireType.Fixed64:
        this.advance(8);
        return;
      case WireType.LengthDelimited:
        this.bytesView();
        return;
      case WireType.Fixed32:
        this.advance(4);
        return;
      default:
        throw new WireDecodeError(`unsupported wire type ${wireType}`);
    }
  }

  private advance(bytes: number): void {
    if (bytes > this.end - this.pos) throw new WireDecodeError('truncated message');
    this.pos += bytes;
  }
}

/** Reads fields of one message until its end; `onField` returns false for fields it does not know. */
export function readFields(reader: WireReader, onField: (field: number, wireType: number) => boolean): void {
  while (!reader.done) {
    const tag = reader.varint32();
    const field = tag >>> 3;
    const wireType = tag & 7;
    if (field === 0) throw new WireDecodeError('field number 0');
    if (!onField(field, wireType)) reader.skip(wireType);
  }
}

export function expectWireType(actual: number, expected: number, field: string): void {
  if (actual !== expected) throw new WireDecodeError(`field ${field} has wire type ${actual}, expected ${expected}`);
}
