/**
 * Go's base64.StdEncoding.DecodeString, which grpc-gateway (encoding/json) uses for bytes
 * fields: strict padding, CR/LF skipped, and the same "illegal base64 data at input byte N"
 * offsets, so a client sees etcd's exact error text.
 */

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const DECODE = new Int16Array(256).fill(-1);
for (let i = 0; i < ALPHABET.length; i++) DECODE[ALPHABET.charCodeAt(i)] = i;
const PAD = 0x3d; // '='

export class CorruptBase64Error extends Error {
  constructor(readonly offset: number) {
    super(`illegal base64 data at input byte ${offset}`);
  }
}

/** Decodes like Go or throws CorruptBase64Error with Go's offset. */
export function decodeGoBase64(text: string): Buffer {
  const src = Buffer.from(text, 'latin1');
  const out: number[] = [];
  let si = 0;
  while (si < src.length) {
    const quantum = [0, 0, 0, 0];
    let dlen = 4;
    let j = 0;
    for (; j < 4; j++) {
      if (si === src.length) {
        // Input ended inside a quantum: Go wants padding.
        if (j === 0) return Buffer.from(out);
        throw new CorruptBase64Error(si - j);
      }
      const c = src[si]!;
      si++;
      const value = DECODE[c]!;
      if (value >= 0) {
        quantum[j] = value;
        continue;
      }
      if (c === 0x0a || c === 0x0d) {
        j--;
        continue;
      }
      if (c !== PAD) throw new CorruptBase64Error(si - 1);
      if (j === 0 || j === 1) throw new CorruptBase64Error(si - 1);
      if (j === 2) {
        while (si < src.length && (src[si] === 0x0a || src[si] === 0x0d)) si++;
        if (si === src.length) throw new CorruptBase64Error(src.length);
        if (src[si] !== PAD) throw new CorruptBase64Error(si - 1);
        si++;
      }
      while (si < src.length && (src[si] === 0x0a || src[si] === 0x0d)) si++;
      if (si < src.length) throw new CorruptBase64Error(si);
      dlen = j;
      break;
    }
    const bits = (quantum[0]! << 18) | (quantum[1]! << 12) | (quantum[2]! << 6) | quantum[3]!;
    if (dlen >= 2) out.push((bits >> 16) & 0xff);
    if (dlen >= 3) out.push((bits >> 8) & 0xff);
    if (dlen >= 4) out.push(bits & 0xff);
    if (dlen < 4) break;
  }
  return Buffer.from(out);
}
