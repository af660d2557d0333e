import { decodeIndexKey, indexKey, indexKeyPrefix } from './key-index-codec';
import { decodeKeyValue } from './key-value-codec';
import { revisionKey, uint64Bytes, readInt64 } from './revision';
import { MetaKey, type MvccDatabases } from './schema';

/**
 * Layouts of the store's files (meta `layout`):
 *  1 (no `layout` key): latest[k] = KeyValue bytes of k's live version
 *  2: latest[k] = history key of k's live version (schema.ts)
 * A store written by an older build, or a snapshot file sent by one, is upgraded in place
 * when opened, so no acknowledged write is lost across the change.
 */
export const CURRENT_LAYOUT = 2n;

const MAX_SUB_REVISION = 0xffff_ffff_ffff_ffffn;

/** Returns how many live keys were rewritten (0 for a store already at the current layout). */
export function upgradeLayout(dbs: MvccDatabases): number {
  const stored = dbs.meta.get(MetaKey.layout);
  if (stored !== undefined) {
    const layout = readInt64(stored);
    if (layout !== CURRENT_LAYOUT) throw new Error(`mvcc store has layout ${layout}; this build reads layout ${CURRENT_LAYOUT}`);
    return 0;
  }
  // Collected first: an LMDB cursor must not see its own range change under it.
  const pointers: { key: Uint8Array; historyKey: Buffer }[] = [];
  for (const { key, value } of dbs.latest.getRange({})) {
    pointers.push({ key, historyKey: liveHistoryKey(dbs, Buffer.from(key), decodeKeyValue(value).modRevision) });
  }
  dbs.root.transactionSync(() => {
    for (const { key, historyKey } of pointers) dbs.latest.putSync(key, historyKey);
    dbs.meta.putSync(MetaKey.layout, uint64Bytes(CURRENT_LAYOUT));
  });
  return pointers.length;
}

/** The history key of `key`'s put at `modRevision`: its sub revision is only in the key index. */
function liveHistoryKey(dbs: MvccDatabases, key: Buffer, modRevision: bigint): Buffer {
  const newest = dbs.keyIndex.getRange({
    start: indexKey(key, { main: modRevision, sub: MAX_SUB_REVISION }),
    end: indexKeyPrefix(key),
    reverse: true,
    limit: 1,
  });
  for (const { key: entryKey } of newest) {
    const entry = decodeIndexKey(entryKey);
    if (entry.main === modRevision) return revisionKey(entry.main, entry.sub, false);
  }
  throw new Error(`layout upgrade: no key index entry for live key ${key.toString('hex')} at revision ${modRevision}`);
}
