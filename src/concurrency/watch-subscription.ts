import { Errors } from '../errors';
import type { WatchPort } from '../api/member-port';
import type { Event } from '../storage/mvcc/types';
import type { WatchCreateRequest, WatchResponse, WatchStream } from '../storage/mvcc/watch/types';
import { requestCanceled } from './request-errors';

/** Event batches queued for a reader that has not taken them yet; beyond it the watch fails. */
export const MAX_QUEUED_BATCHES = 10_000;

export interface WatchTarget {
  key: Buffer;
  /** Empty for one key. */
  rangeEnd: Buffer;
  startRevision: bigint;
}

/** Revision and events of one watch response that carried events. */
export interface EventBatch {
  headerRevision: bigint;
  events: Event[];
}

/**
 * One watcher on its own member watch stream, read as a queue of event batches, as the Go
 * clientv3 watch channel is read by the concurrency code. Created and progress responses
 * are skipped; a canceled watcher (compaction) fails the reader, as a closed Go channel
 * with an error does. Always `close()` it (the stream is dropped with it).
 */
export class WatchSubscription {
  private readonly stream: WatchStream;
  private readonly queue: EventBatch[] = [];
  private failure: unknown;
  private wake: (() => void) | undefined;
  private closed = false;
  private readonly onAbort = (): void => this.fail(requestCanceled());

  constructor(
    watch: WatchPort,
    target: WatchTarget,
    private readonly signal: AbortSignal,
  ) {
    this.stream = watch.openStream((response) => this.receive(response));
    signal.addEventListener('abort', this.onAbort, { once: true });
    if (signal.aborted) this.fail(requestCanceled());
    const create: WatchCreateRequest = {
      key: target.key,
      rangeEnd: target.rangeEnd,
      startRevision: target.startRevision,
      progressNotify: false,
      filters: [],
      prevKv: false,
      watchId: 0n,
      fragment: false,
    };
    if (!this.closed) this.stream.create(create);
  }

  /** The next batch of events, in revision order; rejects when canceled or the watch is lost. */
  async next(): Promise<EventBatch> {
    for (;;) {
      if (this.signal.aborted) throw requestCanceled();
      const batch = this.queue.shift();
      if (batch !== undefined) return batch;
      if (this.failure !== undefined) throw this.failure;
      if (this.closed) throw new Error('WatchSubscription read after close');
      await new Promise<void>((resolve) => {
        this.wake = resolve;
      });
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.signal.removeEventListener('abort', this.onAbort);
    this.stream.close();
    this.notify();
  }

  private receive(response: WatchResponse): void {
    if (this.closed || this.failure !== undefined) return;
    if (response.canceled) {
      // Compaction cancels with compactRevision set; a refused create (watch id -1) too.
      this.fail(response.compactRevision !== 0n ? Errors.compacted() : new Error(`lost watcher: ${response.cancelReason}`));
      return;
    }
    if (response.events.length === 0) return;
    if (this.queue.length >= MAX_QUEUED_BATCHES) {
      this.fail(Errors.tooManyRequests());
      return;
    }
    this.queue.push({ headerRevision: response.headerRevision, events: response.events });
    this.notify();
  }

  private fail(err: unknown): void {
    if (this.failure !== undefined) return;
    this.failure = err;
    this.notify();
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}
