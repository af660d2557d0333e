import { decodeKeyValue } from './key-value-codec';
import { KvView } from './kv-view';
import { readInt64, uint64Bytes } from './revision';
import { MetaKey, type MvccDatabases } from './schema';

/**
 * Layouts of the store's files (meta `layout`):
 *  1 (no `layout` key): latest[k] = KeyValue bytes of k's live version
 *  2: latest[k] = history key of k's live version (schema.ts)
 * A store written by an older build, or a snapshot file sent by one, is upgraded in place
 * when opened, so no acknowledged write is lost across the change.
 */
export const CURRENT_LAYOUT = 2n;

/** Returns how many live keys were rewritten (0 for a store already at the current layout). */
export function upgradeLayout(dbs: MvccDatabases): number {
  const stored = dbs.meta.get(MetaKey.layout);
  if (stored !== undefined) {
    const layout = readInt64(stored);
    if (layout !== CURRENT_LAYOUT) throw new Error(`mvcc store has layout ${layout}; this build reads layout ${CURRENT_LAYOUT}`);
    return 0;
  }
  // Collected first: an LMDB cursor must not see its own range change under it.
  const view = new KvView(dbs);
  const pointers: { key: Uint8Array; historyKey: Buffer }[] = [];
  for (const { key, value } of dbs.latest.getRange({})) {
    // The live version's sub revision is only in the key index: its newest entry.
    const modRevision = decodeKeyValue(value).modRevision;
    const historyKey = view.historyKeyAtOrBefore(Buffer.from(key), modRevision);
    if (historyKey === undefined) throw new Error(`layout upgrade: no key index entry for live key ${Buffer.from(key).toString('hex')} at ${modRevision}`);
    pointers.push({ key, historyKey });
  }
  dbs.root.transactionSync(() => {
    for (const { key, historyKey } of pointers) dbs.latest.putSync(key, historyKey);
    dbs.meta.putSync(MetaKey.layout, uint64Bytes(CURRENT_LAYOUT));
  });
  return pointers.length;
}
