/**
 * HPACK Huffman decoding (RFC 7541 section 5.2, code table in Appendix B).
 *
 * Only the :authority rewriter needs it, on small header values, so a bit-at-a-time walk of a
 * binary decoding tree is plenty. The tree is built once from the code table below.
 */

/** RFC 7541 Appendix B: (code, bit length) for symbols 0..255 and EOS (256), flattened. */
const CODE_TABLE: readonly number[] = [
  0x1ff8, 13, 0x7fffd8, 23, 0xfffffe2, 28, 0xfffffe3, 28, 0xfffffe4, 28, 0xfffffe5, 28,
  0xfffffe6, 28, 0xfffffe7, 28, 0xfffffe8, 28, 0xffffea, 24, 0x3ffffffc, 30, 0xfffffe9, 28,
  0xfffffea, 28, 0x3ffffffd, 30, 0xfffffeb, 28, 0xfffffec, 28, 0xfffffed, 28, 0xfffffee, 28,
  0xfffffef, 28, 0xffffff0, 28, 0xffffff1, 28, 0xffffff2, 28, 0x3ffffffe, 30, 0xffffff3, 28,
  0xffffff4, 28, 0xffffff5, 28, 0xffffff6, 28, 0xffffff7, 28, 0xffffff8, 28, 0xffffff9, 28,
  0xffffffa, 28, 0xffffffb, 28, 0x14, 6, 0x3f8, 10, 0x3f9, 10, 0xffa, 12,
  0x1ff9, 13, 0x15, 6, 0xf8, 8, 0x7fa, 11, 0x3fa, 10, 0x3fb, 10,
  0xf9, 8, 0x7fb, 11, 0xfa, 8, 0x16, 6, 0x17, 6, 0x18, 6,
  0x0, 5, 0x1, 5, 0x2, 5, 0x19, 6, 0x1a, 6, 0x1b, 6,
  0x1c, 6, 0x1d, 6, 0x1e, 6, 0x1f, 6, 0x5c, 7, 0xfb, 8,
  0x7ffc, 15, 0x20, 6, 0xffb, 12, 0x3fc, 10, 0x1ffa, 13, 0x21, 6,
  0x5d, 7, 0x5e, 7, 0x5f, 7, 0x60, 7, 0x61, 7, 0x62, 7,
  0x63, 7, 0x64, 7, 0x65, 7, 0x66, 7, 0x67, 7, 0x68, 7,
  0x69, 7, 0x6a, 7, 0x6b, 7, 0x6c, 7, 0x6d, 7, 0x6e, 7,
  0x6f, 7, 0x70, 7, 0x71, 7, 0x72, 7, 0xfc, 8, 0x73, 7,
  0xfd, 8, 0x1ffb, 13, 0x7fff0, 19, 0x1ffc, 13, 0x3ffc, 14, 0x22, 6,
  0x7ffd, 15, 0x3, 5, 0x23, 6, 0x4, 5, 0x24, 6, 0x5, 5,
  0x25, 6, 0x26, 6, 0x27, 6, 0x6, 5, 0x74, 7, 0x75, 7,
  0x28, 6, 0x29, 6, 0x2a, 6, 0x7, 5, 0x2b, 6, 0x76, 7,
  0x2c, 6, 0x8, 5, 0x9, 5, 0x2d, 6, 0x77, 7, 0x78, 7,
  0x79, 7, 0x7a, 7, 0x7b, 7, 0x7ffe, 15, 0x7fc, 11, 0x3ffd, 14,
  0x1ffd, 13, 0xffffffc, 28, 0xfffe6, 20, 0x3fffd2, 22, 0xfffe7, 20, 0xfffe8, 20,
  0x3fffd3, 22, 0x3fffd4, 22, 0x3fffd5, 22, 0x7fffd9, 23, 0x3fffd6, 22, 0x7fffda, 23,
  0x7fffdb, 23, 0x7fffdc, 23, 0x7fffdd, 23, 0x7fffde, 23, 0xffffeb, 24, 0x7fffdf, 23,
  0xffffec, 24, 0xffffed, 24, 0x3fffd7, 22, 0x7fffe0, 23, 0xffffee, 24, 0x7fffe1, 23,
  0x7fffe2, 23, 0x7fffe3, 23, 0x7fffe4, 23, 0x1fffdc, 21, 0x3fffd8, 22, 0x7fffe5, 23,
  0x3fffd9, 22, 0x7fffe6, 23, 0x7fffe7, 23, 0xffffef, 24, 0x3fffda, 22, 0x1fffdd, 21,
  0xfffe9, 20, 0x3fffdb, 22, 0x3fffdc, 22, 0x7fffe8, 23, 0x7fffe9, 23, 0x1fffde, 21,
  0x7fffea, 23, 0x3fffdd, 22, 0x3fffde, 22, 0xfffff0, 24, 0x1fffdf, 21, 0x3fffdf, 22,
  0x7fffeb, 23, 0x7fffec, 23, 0x1fffe0, 21, 0x1fffe1, 21, 0x3fffe0, 22, 0x1fffe2, 21,
  0x7fffed, 23, 0x3fffe1, 22, 0x7fffee, 23, 0x7fffef, 23, 0xfffea, 20, 0x3fffe2, 22,
  0x3fffe3, 22, 0x3fffe4, 22, 0x7ffff0, 23, 0x3fffe5, 22, 0x3fffe6, 22, 0x7ffff1, 23,
  0x3ffffe0, 26, 0x3ffffe1, 26, 0xfffeb, 20, 0x7fff1, 19, 0x3fffe7, 22, 0x7ffff2, 23,
  0x3fffe8, 22, 0x1ffffec, 25, 0x3ffffe2, 26, 0x3ffffe3, 26, 0x3ffffe4, 26, 0x7ffffde, 27,
  0x7ffffdf, 27, 0x3ffffe5, 26, 0xfffff1, 24, 0x1ffffed, 25, 0x7fff2, 19, 0x1fffe3, 21,
  0x3ffffe6, 26, 0x7ffffe0, 27, 0x7ffffe1, 27, 0x3ffffe7, 26, 0x7ffffe2, 27, 0xfffff2, 24,
  0x1fffe4, 21, 0x1fffe5, 21, 0x3ffffe8, 26, 0x3ffffe9, 26, 0xffffffd, 28, 0x7ffffe3, 27,
  0x7ffffe4, 27, 0x7ffffe5, 27, 0xfffec, 20, 0xfffff3, 24, 0xfffed, 20, 0x1fffe6, 21,
  0x3fffe9, 22, 0x1fffe7, 21, 0x1fffe8, 21, 0x7ffff3, 23, 0x3fffea, 22, 0x3fffeb, 22,
  0x1ffffee, 25, 0x1ffffef, 25, 0xfffff4, 24, 0xfffff5, 24, 0x3ffffea, 26, 0x7ffff4, 23,
  0x3ffffeb, 26, 0x7ffffe6, 27, 0x3ffffec, 26, 0x3ffffed, 26, 0x7ffffe7, 27, 0x7ffffe8, 27,
  0x7ffffe9, 27, 0x7ffffea, 27, 0x7ffffeb, 27, 0xffffffe, 28, 0x7ffffec, 27, 0x7ffffed, 27,
  0x7ffffee, 27, 0x7ffffef, 27, 0x7fffff0, 27, 0x3ffffee, 26, 0x3fffffff, 30,
];

const SYMBOL_COUNT = 257;
const EOS_SYMBOL = 256;
/** A full binary tree over 257 leaves has 256 inner nodes. */
const MAX_INNER_NODES = SYMBOL_COUNT - 1;
/** Marks "no child yet" in the child arrays; leaves are stored as -(symbol + 1). */
const EMPTY = 0;

/**
 * Inner node i has children children[2i] (bit 0) and children[2i + 1] (bit 1): a positive value
 * is another inner node's index, a negative value v is the leaf for symbol -v - 1.
 */
const children = buildTree();

function buildTree(): Int32Array {
  if (CODE_TABLE.length !== SYMBOL_COUNT * 2) throw new Error(`HPACK Huffman table has ${CODE_TABLE.length / 2} entries, expected ${SYMBOL_COUNT}`);
  const tree = new Int32Array(MAX_INNER_NODES * 2);
  let innerCount = 1; // node 0 is the root
  for (let symbol = 0; symbol < SYMBOL_COUNT; symbol++) {
    const code = CODE_TABLE[symbol * 2]!;
    const bits = CODE_TABLE[symbol * 2 + 1]!;
    let node = 0;
    for (let bit = bits - 1; bit >= 0; bit--) {
      const slot = node * 2 + (Math.floor(code / 2 ** bit) % 2);
      if (bit === 0) {
        if (tree[slot] !== EMPTY) throw new Error(`HPACK Huffman code of symbol ${symbol} collides`);
        tree[slot] = -(symbol + 1);
      } else if (tree[slot] === EMPTY) {
        if (innerCount >= MAX_INNER_NODES) throw new Error('HPACK Huffman tree overflow');
        tree[slot] = innerCount++;
        node = innerCount - 1;
      } else {
        const next = tree[slot]!;
        if (next < 0) throw new Error(`HPACK Huffman code of symbol ${symbol} has a code as prefix`);
        node = next;
      }
    }
  }
  if (innerCount !== MAX_INNER_NODES) throw new Error('HPACK Huffman table is not a complete code');
  return tree;
}

/** A Huffman string that RFC 7541 says must be treated as a decoding error. */
export class HuffmanDecodeError extends Error {}

/**
 * Decodes one Huffman-coded HPACK string. Throws HuffmanDecodeError on EOS inside the data or
 * on padding that is longer than 7 bits or not all ones (RFC 7541 section 5.2).
 */
export function huffmanDecode(input: Uint8Array): Buffer {
  // Every symbol is at least 5 bits, so the output is at most input * 8 / 5 bytes.
  const output = Buffer.allocUnsafe(Math.floor((input.length * 8) / 5));
  let written = 0;
  let node = 0;
  let bitsSinceSymbol = 0;
  let allOnesSinceSymbol = true;
  for (let index = 0; index < input.length; index++) {
    const byte = input[index]!;
    for (let shift = 7; shift >= 0; shift--) {
      const bit = (byte >> shift) & 1;
      const next = children[node * 2 + bit]!;
      bitsSinceSymbol++;
      if (bit === 0) allOnesSinceSymbol = false;
      if (next < 0) {
        const symbol = -next - 1;
        if (symbol === EOS_SYMBOL) throw new HuffmanDecodeError('HPACK Huffman string contains EOS');
        output[written++] = symbol;
        node = 0;
        bitsSinceSymbol = 0;
        allOnesSinceSymbol = true;
      } else {
        node = next;
      }
    }
  }
  if (bitsSinceSymbol > 7) throw new HuffmanDecodeError('HPACK Huffman padding longer than 7 bits');
  if (!allOnesSinceSymbol) throw new HuffmanDecodeError('HPACK Huffman padding is not the EOS prefix');
  return output.subarray(0, written);
}

/** Huffman-encodes bytes (used by tests to build header blocks the way grpc-go does). */
export function huffmanEncode(input: Uint8Array): Buffer {
  const out: number[] = [];
  let accumulator = 0;
  let accumulatedBits = 0;
  for (const byte of input) {
    const code = CODE_TABLE[byte * 2]!;
    const bits = CODE_TABLE[byte * 2 + 1]!;
    for (let bit = bits - 1; bit >= 0; bit--) {
      accumulator = (accumulator << 1) | (Math.floor(code / 2 ** bit) % 2);
      if (++accumulatedBits === 8) {
        out.push(accumulator);
        accumulator = 0;
        accumulatedBits = 0;
      }
    }
  }
  if (accumulatedBits > 0) out.push(((accumulator << (8 - accumulatedBits)) | (0xff >> accumulatedBits)) & 0xff);
  return Buffer.from(out);
}
