import type { EtcdError } from '../errors';

interface Pending<T> {
  resolve: (value: T) => void;
  reject: (error: EtcdError) => void;
  timer: NodeJS.Timeout;
}

/**
 * Proposals waiting for their entry to be applied, by request id. Bounded: a full table
 * answers "too many requests" instead of queueing without end.
 */
export class WaitRegistry<T> {
  private readonly pending = new Map<bigint, Pending<T>>();

  constructor(
    private readonly capacity: number,
    private readonly timeoutMs: number,
    private readonly onTimeout: () => EtcdError,
  ) {}

  size(): number {
    return this.pending.size;
  }

  isFull(): boolean {
    return this.pending.size >= this.capacity;
  }

  register(id: bigint): Promise<T> {
    if (this.pending.has(id)) throw new Error(`request id ${id} registered twice`);
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(this.onTimeout());
      }, this.timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
    });
  }

  resolve(id: bigint, value: T): void {
    const entry = this.pending.get(id);
    if (entry === undefined) return;
    this.pending.delete(id);
    clearTimeout(entry.timer);
    entry.resolve(value);
  }

  reject(id: bigint, error: EtcdError): void {
    const entry = this.pending.get(id);
    if (entry === undefined) return;
    this.pending.delete(id);
    clearTimeout(entry.timer);
    entry.reject(error);
  }

  rejectAll(makeError: () => EtcdError): void {
    for (const id of [...this.pending.keys()]) this.reject(id, makeError());
  }
}
