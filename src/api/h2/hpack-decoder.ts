import { huffmanDecode, HuffmanDecodeError } from '../hpack-huffman';
import { STATIC_TABLE, STATIC_TABLE_LAST } from './hpack-static-table';

/** A header block that cannot be decoded: a connection error (COMPRESSION_ERROR) in HTTP/2. */
export class HpackDecodeError extends Error {}

/** RFC 7541 section 4.1: an entry's size is its name and value octets plus 32. */
const ENTRY_OVERHEAD = 32;

/** A decoded header field; the strings of indexed fields are the table's own (not copied). */
export type HeaderField = readonly [name: string, value: string];

/**
 * The decoding side of one HPACK context (RFC 7541): one per HTTP/2 connection, fed every
 * header block in the order they arrive, because each block may change the dynamic table
 * later blocks refer to.
 *
 * Why our own: node:http2 hands every header value to JavaScript as a new external string,
 * and those outlive young collections with the rest of its per-stream objects. Indexed
 * fields here reuse the table's strings, so a repeated request header costs no allocation.
 */
export class HpackDecoder {
  /** Newest entry first (dynamic index 62 is entries[0]). */
  private readonly entries: HeaderField[] = [];
  private size = 0;
  /** The size limit the encoder may use: ours as advertised (SETTINGS_HEADER_TABLE_SIZE). */
  private maxSize: number;

  constructor(private readonly settingsMaxSize = 4096) {
    this.maxSize = settingsMaxSize;
  }

  /** Decodes one complete header block, calling `emit` for each field in order. */
  decode(block: Uint8Array, emit: (name: string, value: string) => void): void {
    let at = 0;
    let fieldsSeen = false;
    while (at < block.length) {
      const first = block[at]!;
      if (first & 0x80) {
        // Indexed header field (section 6.1).
        const [index, next] = readInteger(block, at, 7);
        at = next;
        const field = this.field(index);
        emit(field[0], field[1]);
        fieldsSeen = true;
      } else if (first & 0x40) {
        // Literal with incremental indexing (section 6.2.1).
        const decoded = this.literal(block, at, 6);
        at = decoded.next;
        this.insert(decoded.name, decoded.value);
        emit(decoded.name, decoded.value);
        fieldsSeen = true;
      } else if (first & 0x20) {
        // Dynamic table size update (section 6.3): only at the start of a block.
        if (fieldsSeen) throw new HpackDecodeError('table size update after a header field');
        const [size, next] = readInteger(block, at, 5);
        at = next;
        if (size > this.settingsMaxSize) throw new HpackDecodeError(`table size ${size} above the advertised ${this.settingsMaxSize}`);
        this.maxSize = size;
        this.evict(0);
      } else {
        // Literal without indexing (0000) or never indexed (0001) (sections 6.2.2, 6.2.3).
        const decoded = this.literal(block, at, 4);
        at = decoded.next;
        emit(decoded.name, decoded.value);
        fieldsSeen = true;
      }
    }
  }

  private field(index: number): HeaderField {
    if (index === 0) throw new HpackDecodeError('index 0');
    if (index <= STATIC_TABLE_LAST) return STATIC_TABLE[index]!;
    const entry = this.entries[index - STATIC_TABLE_LAST - 1];
    if (entry === undefined) throw new HpackDecodeError(`index ${index} beyond the table`);
    return entry;
  }

  private literal(block: Uint8Array, at: number, prefixBits: number): { name: string; value: string; next: number } {
    const [nameIndex, afterIndex] = readInteger(block, at, prefixBits);
    let name: string;
    let next = afterIndex;
    if (nameIndex === 0) {
      const read = readString(block, next);
      name = read.text;
      next = read.next;
      if (name !== name.toLowerCase()) throw new HpackDecodeError('upper-case header name');
    } else {
      name = this.field(nameIndex)[0];
    }
    const value = readString(block, next);
    return { name, value: value.text, next: value.next };
  }

  private insert(name: string, value: string): void {
    // Header strings are latin1: one character per octet.
    const entrySize = name.length + value.length + ENTRY_OVERHEAD;
    if (entrySize > this.maxSize) {
      // Section 4.4: an entry larger than the table empties it and is not added.
      this.entries.length = 0;
      this.size = 0;
      return;
    }
    this.evict(entrySize);
    this.entries.unshift([name, value]);
    this.size += entrySize;
  }

  /** Drops the oldest entries until `room` more octets fit. */
  private evict(room: number): void {
    while (this.size + room > this.maxSize && this.entries.length > 0) {
      const oldest = this.entries.pop()!;
      this.size -= oldest[0].length + oldest[1].length + ENTRY_OVERHEAD;
    }
  }
}

/** Largest integer accepted: header sizes here are bounded far below it. */
const MAX_INTEGER = 2 ** 28;

/** RFC 7541 section 5.1: an integer with an N-bit prefix; returns [value, next offset]. */
export function readInteger(block: Uint8Array, at: number, prefixBits: number): [number, number] {
  if (at >= block.length) throw new HpackDecodeError('truncated integer');
  const mask = (1 << prefixBits) - 1;
  let value = block[at]! & mask;
  let next = at + 1;
  if (value < mask) return [value, next];
  let shift = 0;
  for (;;) {
    if (next >= block.length) throw new HpackDecodeError('truncated integer');
    const byte = block[next++]!;
    value += (byte & 0x7f) * 2 ** shift;
    if (value > MAX_INTEGER) throw new HpackDecodeError('integer too large');
    if ((byte & 0x80) === 0) return [value, next];
    shift += 7;
  }
}

/** RFC 7541 section 5.2: a string literal, Huffman-coded or raw (read as latin1, as HTTP/2 header octets). */
function readString(block: Uint8Array, at: number): { text: string; next: number } {
  if (at >= block.length) throw new HpackDecodeError('truncated string');
  const huffman = (block[at]! & 0x80) !== 0;
  const [length, start] = readInteger(block, at, 7);
  const end = start + length;
  if (end > block.length) throw new HpackDecodeError('string beyond the block');
  const bytes = block.subarray(start, end);
  let text: string;
  if (huffman) {
    try {
      text = huffmanDecode(bytes).toString('latin1');
    } catch (error) {
      if (error instanceof HuffmanDecodeError) throw new HpackDecodeError(error.message);
      throw error;
    }
  } else {
    text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
  }
  return { text, next: end };
}
