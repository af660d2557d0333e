/**
 * The key range one watcher covers, normalised the way etcd's v3rpc watch server does it
 * before it reaches the store:
 * - an empty key means "\0" (the smallest key);
 * - an empty range end means the single key;
 * - a range end of exactly "\0" means every key >= key;
 * - otherwise the half-open interval [key, rangeEnd) in bytewise order, which must not be empty.
 */
export type KeyRangeKind = 'single' | 'fromKey' | 'interval';

const ZERO_KEY = Buffer.from([0]);

export class WatchKeyRange {
  private constructor(
    /** Never empty. */
    readonly key: Buffer,
    /** As the HistorySource expects it: empty = single key, "\0" = from key, else exclusive end. */
    readonly rangeEnd: Buffer,
    readonly kind: KeyRangeKind,
  ) {}

  /** Returns undefined when the range is empty (key >= non-empty range end): etcd refuses such a watch. */
  static fromRequest(key: Buffer, rangeEnd: Buffer): WatchKeyRange | undefined {
    const start = key.length === 0 ? ZERO_KEY : key;
    if (rangeEnd.length === 0) return new WatchKeyRange(start, rangeEnd, 'single');
    if (rangeEnd.length === 1 && rangeEnd[0] === 0) return new WatchKeyRange(start, rangeEnd, 'fromKey');
    if (Buffer.compare(start, rangeEnd) >= 0) return undefined;
    return new WatchKeyRange(start, rangeEnd, 'interval');
  }

  contains(key: Buffer): boolean {
    switch (this.kind) {
      case 'single':
        return this.key.equals(key);
      case 'fromKey':
        return Buffer.compare(key, this.key) >= 0;
      case 'interval':
        return Buffer.compare(key, this.key) >= 0 && Buffer.compare(key, this.rangeEnd) < 0;
    }
  }
}
