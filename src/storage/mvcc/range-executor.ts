import { Errors } from '../../errors';
import type { KvView } from './kv-view';
import { SortOrder, SortTarget, type KeyValue, type RangeRequest, type RangeResult } from './types';
import { compareBigints } from '../../compare-bigints';

/** What a range needs to know about the revision it runs at. */
export interface ReadRevisions {
  /** The newest revision visible to this read (inside a writing txn: its new revision). */
  current: bigint;
  /** etcd's compactMainRev: -1 before the first compaction. */
  compactMain: bigint;
}

const EMPTY = Buffer.alloc(0);

/**
 * etcd 3.4 applierV3backend.Range + store.rangeKeys (facts §5), including its quirks:
 * count ignores limit and filters; a sort or filter reads the whole range, otherwise limit+1
 * keys are read; a non-KEY target with order NONE sorts ASCEND only the keys that were read.
 */
export function executeRange(view: KvView, req: RangeRequest, revisions: ReadRevisions): RangeResult {
  let revision = req.revision;
  if (revision > revisions.current) throw Errors.futureRevision();
  if (revision <= 0n) revision = revisions.current;
  if (revision < revisions.compactMain) throw Errors.compacted();

  const sortsOrFilters =
    req.sortOrder !== SortOrder.NONE ||
    req.minModRevision !== 0n ||
    req.maxModRevision !== 0n ||
    req.minCreateRevision !== 0n ||
    req.maxCreateRevision !== 0n;
  let fetchLimit = sortsOrFilters || req.limit <= 0n ? 0 : clampToNumber(req.limit) + 1;
  if (fetchLimit > Number.MAX_SAFE_INTEGER) fetchLimit = 0;

  const scan =
    revision === revisions.current
      ? view.scanLatest(req.key, req.rangeEnd, fetchLimit, req.countOnly)
      : view.scanAt(revision, req.key, req.rangeEnd, fetchLimit, req.countOnly);

  let kvs = scan.kvs.filter((kv) => passesFilters(kv, req));
  let sortOrder: number = req.sortOrder;
  if (req.sortTarget !== SortTarget.KEY && sortOrder === SortOrder.NONE) sortOrder = SortOrder.ASCEND;
  // Unknown enum values from the wire: order other than ASCEND/DESCEND does not sort (as in
  // etcd's switch); an unknown target compares keys rather than crash the apply loop.
  if (sortOrder === SortOrder.ASCEND || sortOrder === SortOrder.DESCEND) {
    const compare = comparatorFor(req.sortTarget);
    kvs.sort(sortOrder === SortOrder.DESCEND ? (a, b) => compare(b, a) : compare);
  }
  let more = false;
  if (req.limit > 0n && BigInt(kvs.length) > req.limit) {
    kvs = kvs.slice(0, Number(req.limit));
    more = true;
  }
  if (req.keysOnly) for (const kv of kvs) kv.value = EMPTY;
  return { kvs, more, count: BigInt(scan.count) };
}

function clampToNumber(value: bigint): number {
  return value > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(value);
}

function passesFilters(kv: KeyValue, req: RangeRequest): boolean {
  if (req.maxModRevision !== 0n && kv.modRevision > req.maxModRevision) return false;
  if (req.minModRevision !== 0n && kv.modRevision < req.minModRevision) return false;
  if (req.maxCreateRevision !== 0n && kv.createRevision > req.maxCreateRevision) return false;
  if (req.minCreateRevision !== 0n && kv.createRevision < req.minCreateRevision) return false;
  return true;
}

function comparatorFor(target: number): (a: KeyValue, b: KeyValue) => number {
  switch (target) {
    case SortTarget.VERSION:
      return (a, b) => compareBigints(a.version, b.version);
    case SortTarget.CREATE:
      return (a, b) => compareBigints(a.createRevision, b.createRevision);
    case SortTarget.MOD:
      return (a, b) => compareBigints(a.modRevision, b.modRevision);
    case SortTarget.VALUE:
      return (a, b) => Buffer.compare(a.value, b.value);
    default:
      return (a, b) => Buffer.compare(a.key, b.key);
  }
}
