import { Errors } from '../../errors';
import { crc32c } from '../crc32c';
import { parseRevisionKey, revisionKeyLowerBound } from './revision';
import { INDEX_PUT, type MvccDatabases } from './schema';

const REVISION_BYTES = 16;
const KEY_BUCKET_NAME = Buffer.from('key');

export interface HashKvResult {
  hash: number;
  /** etcd's compactMainRev: -1 if the store was never compacted. */
  compactRevision: bigint;
  /** The current revision (the response header's). */
  revision: bigint;
}

/**
 * etcd store.HashByRev: crc32c (Castagnoli) over "key", then every history entry
 * (revision key, KeyValue bytes) with main <= revision, skipping entries at or below the
 * compacted revision that a compaction at `revision` would discard.
 */
export function hashKv(dbs: MvccDatabases, revision: bigint, currentRevision: bigint, compactMain: bigint): HashKvResult {
  if (revision > 0n && revision <= compactMain) throw Errors.compacted();
  if (revision > 0n && revision > currentRevision) throw Errors.futureRevision();
  const atRevision = revision === 0n ? currentRevision : revision;
  const keep = keptRevisions(dbs, atRevision);

  let hash = crc32c(KEY_BUCKET_NAME);
  for (const { key, value } of dbs.history.getRange({ end: revisionKeyLowerBound(atRevision + 1n) })) {
    const parsed = parseRevisionKey(key);
    if (parsed.main <= compactMain && keep.size > 0 && !keep.has(`${parsed.main}:${parsed.sub}`)) continue;
    hash = crc32c(key, hash);
    hash = crc32c(value, hash);
  }
  return { hash, compactRevision: compactMain, revision: currentRevision };
}

/** etcd kvindex.Keep(rev): each key's newest version with main <= rev, unless a tombstone. */
function keptRevisions(dbs: MvccDatabases, revision: bigint): Set<string> {
  const keep = new Set<string>();
  let groupPrefix: Uint8Array | undefined;
  let newest: string | undefined;
  for (const { key: indexKey, value: flag } of dbs.keyIndex.getRange({})) {
    const prefixLength = indexKey.length - REVISION_BYTES;
    const prefix = indexKey.subarray(0, prefixLength);
    if (groupPrefix === undefined || Buffer.compare(groupPrefix, prefix) !== 0) {
      if (newest !== undefined) keep.add(newest);
      groupPrefix = prefix;
      newest = undefined;
    }
    const view = Buffer.from(indexKey.buffer, indexKey.byteOffset, indexKey.length);
    const main = view.readBigUInt64BE(prefixLength);
    if (main > revision) continue;
    newest = flag[0] === INDEX_PUT ? `${main}:${view.readBigUInt64BE(prefixLength + 8)}` : undefined;
  }
  if (newest !== undefined) keep.add(newest);
  return keep;
}
