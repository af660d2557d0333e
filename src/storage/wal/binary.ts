/**
 * Bounds-checked little-endian reading and exact-size writing for the hand-written record
 * encodings (WAL and snap files). A read past the end throws DecodeError, which callers
 * turn into a corruption report naming the file and offset.
 */

export class DecodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DecodeError';
  }
}

export class ByteReader {
  private readonly view: DataView;
  private offset = 0;

  constructor(private readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  remaining(): number {
    return this.bytes.length - this.offset;
  }

  u8(): number {
    this.need(1);
    return this.view.getUint8(this.offset++);
  }

  u32(): number {
    this.need(4);
    const value = this.view.getUint32(this.offset, true);
    this.offset += 4;
    return value;
  }

  u64(): bigint {
    this.need(8);
    const value = this.view.getBigUint64(this.offset, true);
    this.offset += 8;
    return value;
  }

  /** A copy, so the result does not pin the (possibly 64 MiB) buffer it was read from. */
  bytesOf(length: number): Uint8Array {
    this.need(length);
    const out = Uint8Array.prototype.slice.call(this.bytes, this.offset, this.offset + length);
    this.offset += length;
    return out;
  }

  rest(): Uint8Array {
    return this.bytesOf(this.remaining());
  }

  /** Every encoding is exact: trailing bytes mean the record is not what it claims. */
  expectEnd(): void {
    if (this.remaining() !== 0) throw new DecodeError(`${this.remaining()} unexpected trailing bytes`);
  }

  private need(count: number): void {
    if (this.offset + count > this.bytes.length) {
      throw new DecodeError(`need ${count} bytes at ${this.offset}, only ${this.remaining()} left`);
    }
  }
}

const MAX_U64 = (1n << 64n) - 1n;

export class ByteWriter {
  readonly bytes: Uint8Array;
  private readonly view: DataView;
  private offset = 0;

  /** The caller computes the exact size up front; finish() asserts it was filled. */
  constructor(sizeBytes: number) {
    this.bytes = new Uint8Array(sizeBytes);
    this.view = new DataView(this.bytes.buffer);
  }

  u8(value: number): this {
    this.view.setUint8(this.offset, value);
    this.offset += 1;
    return this;
  }

  u32(value: number): this {
    this.view.setUint32(this.offset, value, true);
    this.offset += 4;
    return this;
  }

  u64(value: bigint): this {
    // setBigUint64 would silently wrap a negative or oversized value.
    if (value < 0n || value > MAX_U64) throw new Error(`ByteWriter: ${value} is not a uint64`);
    this.view.setBigUint64(this.offset, value, true);
    this.offset += 8;
    return this;
  }

  raw(data: Uint8Array): this {
    this.bytes.set(data, this.offset);
    this.offset += data.length;
    return this;
  }

  finish(): Uint8Array {
    if (this.offset !== this.bytes.length) {
      throw new Error(`ByteWriter: wrote ${this.offset} of ${this.bytes.length} bytes`);
    }
    return this.bytes;
  }
}
