/**
 * CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), slicing-by-8.
 *
 * `seed` is a previous result, so crc32c(b, crc32c(a)) === crc32c(a ++ b): the WAL chains
 * each record's checksum from the one before it this way.
 */

const POLYNOMIAL_REFLECTED = 0x82f63b78;
const SLICES = 8;

/**
 * TABLES[k][b]: the CRC of byte b followed by k zero bytes. Int32Array, not Uint32Array:
 * values ≥ 2^31 would otherwise be loaded as doubles and slow every XOR.
 */
const TABLES: Int32Array[] = buildTables().map((table) => new Int32Array(table.buffer));

function buildTables(): Uint32Array[] {
  const tables: Uint32Array[] = [];
  const first = new Uint32Array(256);
  for (let byte = 0; byte < 256; byte++) {
    let crc = byte;
    for (let bit = 0; bit < 8; bit++) crc = crc & 1 ? (crc >>> 1) ^ POLYNOMIAL_REFLECTED : crc >>> 1;
    first[byte] = crc >>> 0;
  }
  tables.push(first);
  for (let slice = 1; slice < SLICES; slice++) {
    const previous = tables[slice - 1];
    const table = new Uint32Array(256);
    for (let byte = 0; byte < 256; byte++) table[byte] = (previous[byte] >>> 8) ^ first[previous[byte] & 0xff];
    tables.push(table);
  }
  return tables;
}

const [T0, T1, T2, T3, T4, T5, T6, T7] = TABLES;

export function crc32c(data: Uint8Array, seed = 0): number {
  // Kept as int32 (`| 0`), not uint32: V8 then stays on small-integer arithmetic.
  let crc = ~seed | 0;
  let offset = 0;
  const length = data.length;
  const wholeBlocksEnd = length - (length % SLICES);
  while (offset < wholeBlocksEnd) {
    const low = crc ^ (data[offset] | (data[offset + 1] << 8) | (data[offset + 2] << 16) | (data[offset + 3] << 24));
    crc =
      T7[low & 0xff] ^
      T6[(low >>> 8) & 0xff] ^
      T5[(low >>> 16) & 0xff] ^
      T4[low >>> 24] ^
      T3[data[offset + 4]] ^
      T2[data[offset + 5]] ^
      T1[data[offset + 6]] ^
      T0[data[offset + 7]];
    offset += SLICES;
  }
  while (offset < length) {
    crc = T0[(crc ^ data[offset]) & 0xff] ^ (crc >>> 8);
    offset++;
  }
  return ~crc >>> 0;
}
