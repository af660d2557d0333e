import type { RangeOptions } from 'lmdb';
import { decodeIndexKey, indexKey, indexKeyPrefix } from './key-index-codec';
import { decodeKeyValue } from './key-value-codec';
import { inKeyRange, isEmptyInterval, isFromKey, isSingleKey, MAX_KEY_BYTES } from './key-range';
import { revisionKey } from './revision';
import { INDEX_PUT, type MvccDatabases } from './schema';
import type { KeyValue } from './types';

const MAX_SUB_REVISION = 0xffff_ffff_ffff_ffffn;

export interface ScanResult {
  /** At most `limit` KeyValues in key order (none when counting only). */
  kvs: KeyValue[];
  /** Every key live in the range at that revision, ignoring the limit. */
  count: number;
}

/**
 * Reads of the KV state: the live state from `latest` (a pointer into history), any state
 * since the last compaction from `keyIndex` + `history`. Inside a write transaction these
 * see its uncommitted writes.
 */
export class KvView {
  constructor(private readonly dbs: MvccDatabases) {}

  getLatest(key: Buffer): KeyValue | undefined {
    if (key.length > MAX_KEY_BYTES) return undefined; // never stored (validatePut)
    const historyKey = this.dbs.latest.get(key);
    return historyKey === undefined ? undefined : this.historyKeyValue(historyKey);
  }

  /** Whether `key` is live: one lookup, no history read. */
  hasLatest(key: Buffer): boolean {
    return key.length <= MAX_KEY_BYTES && this.dbs.latest.doesExist(key);
  }

  /** limit 0 = no limit. */
  scanLatest(key: Buffer, rangeEnd: Buffer, limit: number, countOnly: boolean): ScanResult {
    if (isSingleKey(rangeEnd)) {
      const kv = this.getLatest(key);
      if (kv === undefined) return { kvs: [], count: 0 };
      return { kvs: countOnly ? [] : [kv], count: 1 };
    }
    if (isEmptyInterval(key, rangeEnd)) return { kvs: [], count: 0 };
    const bounds = latestBounds(key, rangeEnd);
    // Copies: lmdb-js getKeysCount and getRange mutate their options objects.
    if (countOnly) return { kvs: [], count: this.dbs.latest.getKeysCount({ ...bounds }) };
    const kvs: KeyValue[] = [];
    for (const { value: historyKey } of this.dbs.latest.getRange({ ...bounds, ...(limit > 0 ? { limit } : {}) })) {
      kvs.push(this.historyKeyValue(historyKey));
    }
    // A scan that stopped short of its limit read the whole range, so it counted it too: a
    // second cursor pass to count (a lock's queue read, most small ranges) is only needed when
    // the limit cut the scan.
    const count = limit > 0 && kvs.length === limit ? this.dbs.latest.getKeysCount({ ...bounds }) : kvs.length;
    return { kvs, count };
  }

  /** The range as of `revision` (latest version with main <= revision of each key). */
  scanAt(revision: bigint, key: Buffer, rangeEnd: Buffer, limit: number, countOnly: boolean): ScanResult {
    if (isSingleKey(rangeEnd)) {
      const kv = this.versionAtOrBefore(key, revision);
      if (kv === undefined) return { kvs: [], count: 0 };
      return { kvs: countOnly ? [] : [kv], count: 1 };
    }
    if (isEmptyInterval(key, rangeEnd)) return { kvs: [], count: 0 };

    const visible: Buffer[] = []; // history keys of the versions to return
    let count = 0;
    let currentKey: Buffer | undefined;
    let candidate: Buffer | undefined; // newest visible put of currentKey, undefined if deleted
    const flush = (): void => {
      if (candidate === undefined) return;
      count++;
      if (!countOnly && (limit === 0 || visible.length < limit)) visible.push(candidate);
    };
    for (const { key: entryKey, value: flag } of this.dbs.keyIndex.getRange(indexBounds(key, rangeEnd))) {
      const entry = decodeIndexKey(entryKey);
      if (!inKeyRange(entry.key, key, rangeEnd)) {
        if (!isFromKey(rangeEnd) && Buffer.compare(entry.key, rangeEnd) >= 0) break;
        continue;
      }
      if (currentKey === undefined || !currentKey.equals(entry.key)) {
        flush();
        currentKey = entry.key;
        candidate = undefined;
      }
      if (entry.main > revision) continue;
      candidate = flag[0] === INDEX_PUT ? revisionKey(entry.main, entry.sub, false) : undefined;
    }
    flush();
    return { kvs: visible.map((historyKey) => this.historyKeyValue(historyKey)), count };
  }

  /** The key's version visible at `revision`; undefined if absent, deleted or compacted away. */
  versionAtOrBefore(key: Buffer, revision: bigint): KeyValue | undefined {
    if (key.length > MAX_KEY_BYTES || revision <= 0n) return undefined;
    const historyKey = this.historyKeyAtOrBefore(key, revision);
    return historyKey === undefined ? undefined : this.historyKeyValue(historyKey);
  }

  /** The history key of the key's put visible at `revision`, from the key index alone. */
  historyKeyAtOrBefore(key: Buffer, revision: bigint): Buffer | undefined {
    const newest = this.dbs.keyIndex.getRange({
      start: indexKey(key, { main: revision, sub: MAX_SUB_REVISION }),
      end: indexKeyPrefix(key),
      reverse: true,
      limit: 1,
    });
    for (const { key: entryKey, value: flag } of newest) {
      if (flag[0] !== INDEX_PUT) return undefined;
      const entry = decodeIndexKey(entryKey);
      return revisionKey(entry.main, entry.sub, false);
    }
    return undefined;
  }

  /** The version `historyKey` (from latest or keyIndex) names. */
  historyKeyValue(historyKey: Uint8Array): KeyValue {
    const bytes = this.dbs.history.get(historyKey);
    if (bytes === undefined) throw new Error(`index points at missing history entry ${Buffer.from(historyKey).toString('hex')}`);
    return decodeKeyValue(bytes);
  }
}

/**
 * LMDB bounds for [key, rangeEnd) on `latest`. Stored keys are at most MAX_KEY_BYTES long, so
 * a longer bound is replaced by its MAX_KEY_BYTES prefix: the only stored key between that
 * prefix and the real bound is the prefix itself, excluded (start) or included (end).
 */
export function latestBounds(key: Buffer, rangeEnd: Buffer): RangeOptions {
  const options: RangeOptions = {};
  if (key.length > MAX_KEY_BYTES) {
    options.start = key.subarray(0, MAX_KEY_BYTES);
    options.exclusiveStart = true;
  } else {
    options.start = key;
  }
  if (!isFromKey(rangeEnd)) {
    if (rangeEnd.length > MAX_KEY_BYTES) {
      options.end = rangeEnd.subarray(0, MAX_KEY_BYTES);
      options.inclusiveEnd = true;
    } else {
      options.end = rangeEnd;
    }
  }
  return options;
}

/** A superset of the index entries for [key, rangeEnd); callers filter decoded keys exactly. */
function indexBounds(key: Buffer, rangeEnd: Buffer): RangeOptions {
  const options: RangeOptions = { start: indexKeyPrefix(key.subarray(0, MAX_KEY_BYTES)) };
  if (!isFromKey(rangeEnd) && rangeEnd.length <= MAX_KEY_BYTES) options.end = indexKeyPrefix(rangeEnd);
  return options;
}
