import { indexKey } from './key-index-codec';
import { encodeKeyValue } from './key-value-codec';
import type { KvView } from './kv-view';
import { revisionKey } from './revision';
import { INDEX_PUT, INDEX_TOMBSTONE, type MvccDatabases } from './schema';
import { EventType, type Event, type KeyValue } from './types';

const PUT_FLAG = Buffer.from([INDEX_PUT]);
const TOMBSTONE_FLAG = Buffer.from([INDEX_TOMBSTONE]);
const EMPTY = Buffer.alloc(0);

/**
 * The writes of ONE client request inside the batch's LMDB write transaction. Every change
 * gets revision (beginRevision + 1, sub) with sub = its position in the request, exactly like
 * etcd's storeTxnWrite; the request takes a new revision only if it changed something.
 */
export class RequestScope {
  readonly events: Event[] = [];

  constructor(
    private readonly dbs: MvccDatabases,
    private readonly view: KvView,
    readonly beginRevision: bigint,
  ) {}

  get writeRevision(): bigint {
    return this.beginRevision + 1n;
  }

  /** The revision a read inside this request sees: its own writes count once made. */
  get viewRevision(): bigint {
    return this.events.length > 0 ? this.beginRevision + 1n : this.beginRevision;
  }

  get changed(): boolean {
    return this.events.length > 0;
  }

  /** Writes a new version of `key`; returns the version it replaced. */
  put(key: Buffer, value: Buffer, lease: bigint): KeyValue | undefined {
    const previous = this.view.getLatest(key);
    const main = this.writeRevision;
    const sub = BigInt(this.events.length);
    const kv: KeyValue = {
      key,
      createRevision: previous === undefined ? main : previous.createRevision,
      modRevision: main,
      version: previous === undefined ? 1n : previous.version + 1n,
      value,
      lease,
    };
    const historyKey = revisionKey(main, sub, false);
    this.dbs.history.putSync(historyKey, encodeKeyValue(kv));
    this.dbs.keyIndex.putSync(indexKey(key, { main, sub }), PUT_FLAG);
    this.dbs.latest.putSync(key, historyKey);
    this.events.push(previous === undefined ? { type: EventType.PUT, kv } : { type: EventType.PUT, kv, prevKv: previous });
    return previous;
  }

  /** Deletes a live key (the caller read `previous` from latest). */
  delete(previous: KeyValue): void {
    const main = this.writeRevision;
    const sub = BigInt(this.events.length);
    const key = previous.key;
    const tombstone: KeyValue = { key, createRevision: 0n, modRevision: 0n, version: 0n, value: EMPTY, lease: 0n };
    this.dbs.history.putSync(revisionKey(main, sub, true), encodeKeyValue(tombstone));
    this.dbs.keyIndex.putSync(indexKey(key, { main, sub }), TOMBSTONE_FLAG);
    this.dbs.latest.removeSync(key);
    this.events.push({
      type: EventType.DELETE,
      kv: { key, createRevision: 0n, modRevision: main, version: 0n, value: EMPTY, lease: 0n },
      prevKv: previous,
    });
  }

  /** Deletes every live key in the range, in key order; returns what was deleted. */
  deleteRange(key: Buffer, rangeEnd: Buffer): KeyValue[] {
    const { kvs } = this.view.scanLatest(key, rangeEnd, 0, false);
    for (const kv of kvs) this.delete(kv);
    return kvs;
  }
}
