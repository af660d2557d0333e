import { open, type Database, type RootDatabase } from 'lmdb';

/**
 * The LMDB layout of the MVCC store. One environment (one file), five named databases:
 *
 *  history  : etcd revision key (revision.ts) → mvccpb.KeyValue bytes; a tombstone's value is
 *             KeyValue{key} (exactly etcd's "key" bucket, so HashKV matches its algorithm)
 *  keyIndex : escaped key ++ revision (key-index-codec.ts) → 1 byte: 0 put, 1 tombstone;
 *             finds the version of a key visible at any revision since the last compaction
 *  latest   : user key → history key (revision.ts, 17 bytes) of its live version (absent
 *             when deleted); serves reads at the current revision with one history lookup.
 *             It holds a pointer, not the value: a put rewrites a random leaf of `latest`,
 *             and with ~40-byte entries instead of ~300 (key + KeyValue) the same keys fill
 *             a tenth of the leaves, so a snapshot's sync writes back far fewer pages
 *             (layout 2; layout-upgrade.ts)
 *  meta     : name → value (current/compacted revision, consistent index, named blobs)
 *  leases   : 8-byte BE lease id → 8-byte ttlSeconds ++ 8-byte remainingSeconds
 *
 * Invariant: latest, keyIndex and history always change in the same write transaction, and
 * latest[k] is the history key of the newest keyIndex entry of k when that is not a tombstone.
 */

export type BinaryDatabase = Database<Uint8Array, Uint8Array>;

export interface MvccDatabases {
  root: RootDatabase<Uint8Array, Uint8Array>;
  history: BinaryDatabase;
  keyIndex: BinaryDatabase;
  latest: BinaryDatabase;
  meta: BinaryDatabase;
  leases: BinaryDatabase;
}

export const INDEX_PUT = 0;
export const INDEX_TOMBSTONE = 1;

export const MetaKey = {
  currentRevision: Buffer.from('currentRevision'),
  compactedRevision: Buffer.from('compactedRevision'),
  consistentIndex: Buffer.from('consistentIndex'),
  layout: Buffer.from('layout'),
} as const;

const BLOB_PREFIX = 'blob/';

export function blobMetaKey(name: string): Buffer {
  return Buffer.from(BLOB_PREFIX + name, 'utf8');
}

const DATABASE_OPTIONS = { keyEncoding: 'binary', encoding: 'binary' } as const;
/** Options lmdb-js 3.5 reads (open.js) that its typings leave out. */
const UNTYPED_LMDB_OPTIONS = { noReadAhead: true } as const;

export function openDatabases(directory: string, mapSizeBytes: number | undefined): MvccDatabases {
  // noSync: commits never fsync on the event loop. Durability of applied entries comes
  // from the WAL; flushed() forces an fsync on a worker thread when a snapshot needs it.
  // useWritemap: a commit changes pages in place in the map instead of copying each dirty
  // page out with pwrite (an apply transaction of 12 puts: 165 instead of 270 µs). The data
  // file then grows in map-size steps, so its size is read from LMDB's last page
  // (store-files.ts usedFileBytes), not from the file. Every open of a store goes through
  // here, so no process ever mixes write-map and plain opens of one environment.
  // noReadAhead (MDB_NORDAHEAD: madvise(MADV_RANDOM) on the map): without it a page fault
  // reads ahead, and recent kernels (large page-cache folios for ext4 since 6.x) then hold
  // the file in folios of many pages; a put dirties one 4 KiB page, but writeback writes the
  // whole folio. 10,000 random puts then wrote back 90 MB at a 125 MB database and 240 MB at
  // 290 MB, so each snapshot's sync grew with the database and put p99 with it (32 -> 65 ms
  // over four minutes of puts, scripts/sustained-put.sh). With it the same puts write ~45 MB
  // at any size. Our access is random B-tree pages, where readahead fetches pages nobody
  // asked for. (test/storage/mvcc/writeback.test.ts)
  const root = open<Uint8Array, Uint8Array>(directory, {
    ...DATABASE_OPTIONS,
    maxDbs: 8,
    noSync: true,
    useWritemap: true,
    ...UNTYPED_LMDB_OPTIONS,
    ...(mapSizeBytes !== undefined ? { mapSize: mapSizeBytes } : {}),
  });
  return {
    root,
    history: root.openDB('history', DATABASE_OPTIONS),
    keyIndex: root.openDB('keyIndex', DATABASE_OPTIONS),
    latest: root.openDB('latest', DATABASE_OPTIONS),
    meta: root.openDB('meta', DATABASE_OPTIONS),
    leases: root.openDB('leases', DATABASE_OPTIONS),
  };
}
