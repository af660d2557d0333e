/**
 * Key-range permissions (etcd's authpb.Permission) and the interval maths etcd's
 * rangePermCache does: a user's permissions of one type are merged into a union of
 * half-open byte intervals, and a request range is allowed iff the union covers it.
 */

export const PermType = { READ: 0, WRITE: 1, READWRITE: 2 } as const;
export type PermTypeValue = (typeof PermType)[keyof typeof PermType];

export interface Permission {
  permType: PermTypeValue;
  key: Buffer;
  /** Empty: the single key; "\0": every key >= key; else [key, rangeEnd). */
  rangeEnd: Buffer;
}

/** [begin, end) over byte strings; end undefined = +infinity. */
export interface KeyInterval {
  begin: Buffer;
  end: Buffer | undefined;
}

const ZERO_BYTE = Buffer.from([0]);

function isOpenEnd(rangeEnd: Buffer): boolean {
  return rangeEnd.length === 1 && rangeEnd[0] === 0;
}

/** The interval a permission or request names (a single key is [key, key + "\0")). */
export function intervalOf(key: Buffer, rangeEnd: Buffer): KeyInterval {
  if (rangeEnd.length === 0) return { begin: key, end: Buffer.concat([key, ZERO_BYTE]) };
  return { begin: key, end: isOpenEnd(rangeEnd) ? undefined : rangeEnd };
}

/** Compares two interval ends, undefined being +infinity. */
function compareEnd(a: Buffer | undefined, b: Buffer | undefined): number {
  if (a === undefined) return b === undefined ? 0 : 1;
  if (b === undefined) return -1;
  return Buffer.compare(a, b);
}

/**
 * A union of key intervals kept as sorted, disjoint, non-touching intervals (touching or
 * overlapping inputs are merged, as etcd's interval tree treats them as contiguous).
 */
export class IntervalUnion {
  private readonly merged: KeyInterval[];

  constructor(intervals: readonly KeyInterval[]) {
    const sorted = intervals
      .filter((i) => compareEnd(i.begin, i.end) < 0)
      .sort((a, b) => Buffer.compare(a.begin, b.begin));
    const merged: KeyInterval[] = [];
    for (const interval of sorted) {
      const last = merged[merged.length - 1];
      // Contiguous when the next begin is at or before the running end.
      if (last !== undefined && compareEnd(interval.begin, last.end) <= 0) {
        if (compareEnd(interval.end, last.end) > 0) last.end = interval.end;
      } else {
        merged.push({ begin: interval.begin, end: interval.end });
      }
    }
    this.merged = merged;
  }

  get size(): number {
    return this.merged.length;
  }

  /** Whether every key of `wanted` lies in the union (an empty `wanted` is never covered, as in etcd). */
  covers(wanted: KeyInterval): boolean {
    if (compareEnd(wanted.begin, wanted.end) >= 0) return false;
    const holder = this.lastStartingAtOrBefore(wanted.begin);
    return holder !== undefined && compareEnd(holder.end, wanted.end) >= 0;
  }

  /** Whether `key` lies in the union. */
  containsKey(key: Buffer): boolean {
    const holder = this.lastStartingAtOrBefore(key);
    return holder !== undefined && compareEnd(key, holder.end) < 0;
  }

  /** The merged interval with the greatest begin <= `key` (binary search). */
  private lastStartingAtOrBefore(key: Buffer): KeyInterval | undefined {
    let lo = 0;
    let hi = this.merged.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (Buffer.compare(this.merged[mid]!.begin, key) <= 0) lo = mid + 1;
      else hi = mid;
    }
    return lo === 0 ? undefined : this.merged[lo - 1];
  }
}

/** A user's merged read and write permissions (etcd's unifiedRangePermissions). */
export class RangePermissions {
  constructor(
    readonly read: IntervalUnion,
    readonly write: IntervalUnion,
  ) {}

  static of(permissions: readonly Permission[]): RangePermissions {
    const read: KeyInterval[] = [];
    const write: KeyInterval[] = [];
    for (const p of permissions) {
      const interval = intervalOf(p.key, p.rangeEnd);
      if (p.permType === PermType.READ || p.permType === PermType.READWRITE) read.push(interval);
      if (p.permType === PermType.WRITE || p.permType === PermType.READWRITE) write.push(interval);
    }
    return new RangePermissions(new IntervalUnion(read), new IntervalUnion(write));
  }

  /** etcd's isRangeOpPermitted: a single key (empty rangeEnd) must lie in, a range be covered by, the union. */
  allows(type: 'read' | 'write', key: Buffer, rangeEnd: Buffer): boolean {
    const union = type === 'read' ? this.read : this.write;
    if (rangeEnd.length === 0) return union.containsKey(key);
    return union.covers(intervalOf(key, rangeEnd));
  }
}
