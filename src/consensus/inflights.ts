/**
 * The leader's window of MsgApp sent to one follower and not yet acknowledged, identified by
 * the last index each carried. Bounded by `capacity` (maxInflightMessages): when full, the
 * leader stops sending appends to that follower until acks free slots.
 * Invariant: indexes are strictly increasing.
 */
export class Inflights {
  private indexes: bigint[] = [];

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity <= 0) throw new Error(`inflight capacity must be > 0, got ${capacity}`);
  }

  add(lastIndex: bigint): void {
    if (this.full()) throw new Error('cannot add into a full inflights');
    const tail = this.indexes[this.indexes.length - 1];
    if (tail !== undefined && lastIndex <= tail) throw new Error(`inflight ${lastIndex} not above ${tail}`);
    this.indexes.push(lastIndex);
  }

  /** Frees every in-flight message whose last index ≤ to (acknowledged). */
  freeLE(to: bigint): void {
    let i = 0;
    while (i < this.indexes.length && this.indexes[i] <= to) i++;
    if (i > 0) this.indexes = this.indexes.slice(i);
  }

  freeFirstOne(): void {
    this.indexes = this.indexes.slice(1);
  }

  full(): boolean {
    return this.indexes.length >= this.capacity;
  }

  count(): number {
    return this.indexes.length;
  }

  reset(): void {
    this.indexes = [];
  }
}
