import { decodeKeyValue } from './key-value-codec';
import { inKeyRange } from './key-range';
import type { KvView } from './kv-view';
import { parseRevisionKey, revisionKeyLowerBound } from './revision';
import type { MvccDatabases } from './schema';
import { EventType, type Event } from './types';

const EMPTY = Buffer.alloc(0);

/**
 * Events with fromRevision <= main <= toRevision on keys in the range, in (main, sub) order.
 * prevKv is the key's state at main - 1 (what etcd's watch server fetches), when it still
 * exists. History below the compacted revision may be partly gone; the caller checks that.
 */
export function eventsBetween(
  dbs: MvccDatabases,
  view: KvView,
  fromRevision: bigint,
  toRevision: bigint,
  key: Buffer,
  rangeEnd: Buffer,
): Event[] {
  if (toRevision < fromRevision || toRevision < 1n) return [];
  const events: Event[] = [];
  const range = { start: revisionKeyLowerBound(fromRevision), end: revisionKeyLowerBound(toRevision + 1n) };
  for (const { key: historyKey, value } of dbs.history.getRange(range)) {
    const revision = parseRevisionKey(historyKey);
    const stored = decodeKeyValue(value);
    if (!inKeyRange(stored.key, key, rangeEnd)) continue;
    const prevKv = view.versionAtOrBefore(stored.key, revision.main - 1n);
    const kv = revision.tombstone
      ? { key: stored.key, createRevision: 0n, modRevision: revision.main, version: 0n, value: EMPTY, lease: 0n }
      : stored;
    const type = revision.tombstone ? EventType.DELETE : EventType.PUT;
    events.push(prevKv === undefined ? { type, kv } : { type, kv, prevKv });
  }
  return events;
}
