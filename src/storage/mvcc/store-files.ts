import * as fs from 'node:fs';
import * as path from 'node:path';
import { crc32c } from '../crc32c';
import { MetaKey, type MvccDatabases } from './schema';

/** LMDB's data file inside a store directory; copyTo() produces one of these. */
export const DATA_FILE = 'data.mdb';
const LOCK_FILE = 'lock.mdb';

/** Writes a consistent, compacted copy of the environment to `file` (LMDB copies run off-thread). */
export async function copyDatabase(dbs: MvccDatabases, file: string): Promise<void> {
  const staging = fs.mkdtempSync(path.join(path.dirname(file), `.${path.basename(file)}.copy-`));
  try {
    await dbs.root.backup(staging, true);
    fs.renameSync(path.join(staging, DATA_FILE), file);
  } finally {
    fs.rmSync(staging, { recursive: true, force: true });
  }
}

/** Makes `file` (from copyDatabase) the database of `directory`, which must not be open. */
export function installDatabaseCopy(file: string, directory: string): void {
  fs.mkdirSync(directory, { recursive: true });
  for (const name of [DATA_FILE, LOCK_FILE]) fs.rmSync(path.join(directory, name), { force: true });
  fs.copyFileSync(file, path.join(directory, DATA_FILE));
}

interface EnvironmentStats {
  pageSize: number;
  lastPageNumber: number;
}

/**
 * The bytes of the data file LMDB has used: up to its last allocated page. Without a write
 * map this equals the file's size; with one the file is extended to the whole map, sparse,
 * so its size says nothing about the data (etcd's dbSize is bbolt's used file length).
 */
export function usedFileBytes(dbs: MvccDatabases): bigint {
  const stats = dbs.root.getStats() as EnvironmentStats;
  return BigInt(stats.lastPageNumber + 1) * BigInt(stats.pageSize);
}

interface TreeStats {
  pageSize: number;
  treeBranchPageCount: number;
  treeLeafPageCount: number;
  overflowPages: number;
}

/** Pages held by the B-trees of every database (free pages excluded), in bytes. */
export function bytesInUse(dbs: MvccDatabases): bigint {
  let bytes = 0;
  for (const db of [dbs.root, dbs.history, dbs.keyIndex, dbs.latest, dbs.meta, dbs.leases]) {
    const stats = db.getStats() as TreeStats;
    bytes += (stats.treeBranchPageCount + stats.treeLeafPageCount + stats.overflowPages) * stats.pageSize;
  }
  return BigInt(bytes);
}

/** crc32c over history, live keys, leases and meta (not the consistent index, which differs between members). */
export function contentHash(dbs: MvccDatabases): number {
  let hash = 0;
  for (const db of [dbs.history, dbs.latest, dbs.leases, dbs.meta]) {
    for (const { key, value } of db.getRange({})) {
      if (db === dbs.meta && Buffer.from(key).equals(MetaKey.consistentIndex)) continue;
      hash = crc32c(key, hash);
      hash = crc32c(value, hash);
    }
  }
  return hash;
}
