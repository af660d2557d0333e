import { revisionKey } from './revision';
import { INDEX_TOMBSTONE, type MvccDatabases } from './schema';

const REVISION_BYTES = 16;

/**
 * Removes history that a compaction at `revision` discards (etcd keyIndex.compact +
 * scheduleCompaction): of each key's versions with main <= revision only the newest is kept,
 * and not even that one if it is a tombstone. Versions above `revision` are untouched.
 * Runs inside the caller's write transaction. Returns how many versions were removed.
 *
 * Bound: one pass over the key index (the history since the previous compaction plus one
 * entry per live key); deletions are collected first because LMDB cursors must not see
 * their own range change under them.
 */
export function compactHistory(dbs: MvccDatabases, revision: bigint): number {
  const doomedIndexKeys: Uint8Array[] = [];
  const doomedHistoryKeys: Buffer[] = [];
  let groupPrefix: Uint8Array | undefined;
  let newest: { indexKey: Uint8Array; main: bigint; sub: bigint; tombstone: boolean } | undefined;

  const doom = (entry: NonNullable<typeof newest>): void => {
    doomedIndexKeys.push(entry.indexKey);
    doomedHistoryKeys.push(revisionKey(entry.main, entry.sub, entry.tombstone));
  };
  const endGroup = (): void => {
    if (newest !== undefined && newest.tombstone) doom(newest);
    newest = undefined;
  };

  for (const { key: indexKey, value: flag } of dbs.keyIndex.getRange({})) {
    const prefixLength = indexKey.length - REVISION_BYTES;
    const prefix = indexKey.subarray(0, prefixLength);
    if (groupPrefix === undefined || Buffer.compare(groupPrefix, prefix) !== 0) {
      endGroup();
      groupPrefix = prefix;
    }
    const view = Buffer.from(indexKey.buffer, indexKey.byteOffset, indexKey.length);
    const main = view.readBigUInt64BE(prefixLength);
    if (main > revision) continue;
    if (newest !== undefined) doom(newest);
    newest = { indexKey, main, sub: view.readBigUInt64BE(prefixLength + 8), tombstone: flag[0] === INDEX_TOMBSTONE };
  }
  endGroup();

  for (const key of doomedIndexKeys) dbs.keyIndex.removeSync(key);
  for (const key of doomedHistoryKeys) {
    if (!dbs.history.removeSync(key)) throw new Error(`compaction: history entry ${key.toString('hex')} missing`);
  }
  return doomedHistoryKeys.length;
}
