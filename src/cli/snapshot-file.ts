import { createHash } from 'node:crypto';
import * as fs from 'node:fs';

/** etcd appends the sha256 of the database to a snapshot stream; latchkey does the same. */
const SHA256_BYTES = 32;
/** etcd's test: a file whose size is 32 past a multiple of 512 carries the trailer. */
const TRAILER_ALIGNMENT = 512;
const READ_CHUNK_BYTES = 1024 * 1024;
/** LMDB's meta page magic, a little-endian u32 after the page header (16 bytes in LMDB, 24 in lmdb-js 3's). */
const LMDB_MAGIC = 0xbeefc0de;
const LMDB_MAGIC_OFFSETS = [24, 16];

export class SnapshotFileError extends Error {
  override name = 'SnapshotFileError';
}

export function hasHashTrailer(sizeBytes: number): boolean {
  return sizeBytes % TRAILER_ALIGNMENT === SHA256_BYTES;
}

/**
 * Copies the database part of a snapshot file (as `etcdctl snapshot save` writes it) to
 * `target`, checking its sha256 trailer first. Without a trailer (a raw database file) the
 * copy needs `skipHashCheck`, as etcd's restore does.
 */
export async function extractDatabase(file: string, target: string, skipHashCheck: boolean): Promise<void> {
  const size = fs.statSync(file).size;
  const trailer = hasHashTrailer(size);
  if (!trailer && !skipHashCheck) throw new SnapshotFileError(`snapshot missing hash but --skip-hash-check=false: ${file}`);
  const dataBytes = trailer ? size - SHA256_BYTES : size;
  const digest = createHash('sha256');
  const input = await fs.promises.open(file, 'r');
  try {
    await assertLmdbFile(input, file);
  } catch (err) {
    await input.close();
    throw err;
  }
  const output = await fs.promises.open(target, 'w');
  try {
    const buffer = Buffer.alloc(READ_CHUNK_BYTES);
    for (let offset = 0; offset < dataBytes; ) {
      const want = Math.min(READ_CHUNK_BYTES, dataBytes - offset);
      const { bytesRead } = await input.read(buffer, 0, want, offset);
      if (bytesRead === 0) throw new SnapshotFileError(`snapshot file shrank while reading: ${file}`);
      const chunk = buffer.subarray(0, bytesRead);
      digest.update(chunk);
      await output.write(chunk);
      offset += bytesRead;
    }
    if (trailer && !skipHashCheck) {
      const expected = Buffer.alloc(SHA256_BYTES);
      await input.read(expected, 0, SHA256_BYTES, dataBytes);
      if (!digest.digest().equals(expected)) throw new SnapshotFileError(`expected sha256 ${expected.toString('hex')} does not match the file: ${file}`);
    }
    await output.sync();
  } finally {
    await input.close();
    await output.close();
  }
}

/** An etcd (bolt) snapshot or any other file would fail later with an obscure LMDB error. */
async function assertLmdbFile(input: fs.promises.FileHandle, file: string): Promise<void> {
  const head = Buffer.alloc(Math.max(...LMDB_MAGIC_OFFSETS) + 4);
  const { bytesRead } = await input.read(head, 0, head.length, 0);
  if (bytesRead < head.length || !LMDB_MAGIC_OFFSETS.some((offset) => head.readUInt32LE(offset) === LMDB_MAGIC)) {
    throw new SnapshotFileError(`${file} is not a latchkey snapshot (an etcd snapshot is restored with etcdctl into etcd)`);
  }
}
