import { EventType, type Event, type KeyValue, type WriteOutcome } from '../../../src/storage/mvcc/types';
import type { HistorySource } from '../../../src/storage/mvcc/watch/types';

export type FakeOp = { put: string; value: string } | { del: string };

/**
 * An in-memory stand-in for the MVCC store: every write request becomes one revision whose
 * events (with prevKv when the key existed) are logged, as the real store reports them.
 */
export class FakeHistory implements HistorySource {
  private revision = 1n;
  private compactRevision = 0n;
  private readonly log: Event[] = [];
  private readonly live = new Map<string, KeyValue>();
  /** Every range asked of eventsBetween, so tests can check the hub's reads are bounded. */
  readonly reads: Array<{ from: bigint; to: bigint }> = [];

  currentRevision(): bigint {
    return this.revision;
  }

  compactedRevision(): bigint {
    return this.compactRevision;
  }

  put(key: string, value: string): WriteOutcome {
    return this.txn([{ put: key, value }]);
  }

  del(key: string): WriteOutcome {
    return this.txn([{ del: key }]);
  }

  /** All ops share one new revision; deletes of missing keys write nothing. */
  txn(ops: FakeOp[]): WriteOutcome {
    const revision = this.revision + 1n;
    const events: Event[] = [];
    for (const op of ops) {
      const event = 'put' in op ? this.applyPut(op.put, op.value, revision) : this.applyDelete(op.del, revision);
      if (event !== undefined) events.push(event);
    }
    if (events.length === 0) return { revision: this.revision, events };
    this.revision = revision;
    this.log.push(...events);
    return { revision, events };
  }

  compact(revision: bigint): void {
    if (revision <= this.compactRevision || revision > this.revision) throw new Error(`bad compaction ${revision}`);
    this.compactRevision = revision;
    let drop = 0;
    while (drop < this.log.length && this.log[drop]!.kv.modRevision < revision) drop += 1;
    this.log.splice(0, drop);
  }

  eventsBetween(fromRevision: bigint, toRevision: bigint, key: Buffer, rangeEnd: Buffer): Event[] {
    if (fromRevision < this.compactRevision) throw new Error(`read below compaction: ${fromRevision}`);
    if (toRevision > this.revision) throw new Error(`read beyond current: ${toRevision}`);
    if (toRevision - fromRevision >= 1000n) throw new Error(`read of more than 1000 revisions`);
    this.reads.push({ from: fromRevision, to: toRevision });
    const result: Event[] = [];
    for (let i = this.firstIndexAtOrAfter(fromRevision); i < this.log.length; i++) {
      const event = this.log[i]!;
      if (event.kv.modRevision > toRevision) break;
      if (inRange(event.kv.key, key, rangeEnd)) result.push(event);
    }
    return result;
  }

  private firstIndexAtOrAfter(revision: bigint): number {
    let low = 0;
    let high = this.log.length;
    while (low < high) {
      const mid = (low + high) >> 1;
      if (this.log[mid]!.kv.modRevision < revision) low = mid + 1;
      else high = mid;
    }
    return low;
  }

  private applyPut(key: string, value: string, revision: bigint): Event {
    const prev = this.live.get(key);
    const kv: KeyValue = {
      key: Buffer.from(key),
      createRevision: prev?.createRevision ?? revision,
      modRevision: revision,
      version: (prev?.version ?? 0n) + 1n,
      value: Buffer.from(value),
      lease: 0n,
    };
    this.live.set(key, kv);
    return prev === undefined ? { type: EventType.PUT, kv } : { type: EventType.PUT, kv, prevKv: prev };
  }

  private applyDelete(key: string, revision: bigint): Event | undefined {
    const prev = this.live.get(key);
    if (prev === undefined) return undefined;
    this.live.delete(key);
    const kv: KeyValue = {
      key: Buffer.from(key),
      createRevision: 0n,
      modRevision: revision,
      version: 0n,
      value: Buffer.alloc(0),
      lease: 0n,
    };
    return { type: EventType.DELETE, kv, prevKv: prev };
  }
}

function inRange(candidate: Buffer, key: Buffer, rangeEnd: Buffer): boolean {
  if (rangeEnd.length === 0) return candidate.equals(key);
  if (Buffer.compare(candidate, key) < 0) return false;
  if (rangeEnd.length === 1 && rangeEnd[0] === 0) return true;
  return Buffer.compare(candidate, rangeEnd) < 0;
}
