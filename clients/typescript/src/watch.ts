import { EventEmitter } from 'node:events';
import type * as grpc from '@grpc/grpc-js';
import type { Connection } from './connection';
import { AbortedError, ClientError, toEtcdError, WatchCanceledError } from './errors';
import { Bytes, decodeHeader, decodeKeyValue, KeyValue, prefixEnd, ResponseHeader, toBigInt, toBuffer } from './kv';
import type { Wire } from './proto';

export interface WatchEvent {
  type: 'put' | 'delete';
  /** For a delete: the key and the deletion revision (modRevision). */
  kv: KeyValue;
  /** Only with `prevKv: true`, and not for creations. */
  prevKv?: KeyValue;
}

export interface WatchOptions {
  rangeEnd?: Bytes;
  prefix?: boolean;
  /** First revision to report (history replayed from it). Absent: changes after now. */
  startRevision?: bigint;
  prevKv?: boolean;
  /** Server-side filters: drop puts / drop deletes. */
  filters?: Array<'noput' | 'nodelete'>;
  progressNotify?: boolean;
}

/** Events buffered for an async iterator that is not reading: beyond this the watch fails. */
const MAX_BUFFERED_EVENTS = 100_000;
/** Reconnect attempts in a row (each after a backoff) before every watch fails. */
const MAX_RECONNECT_ATTEMPTS = 40;

/**
 * One watcher. Emits `events` (events, header) for each revision batch, `error` (Error) when
 * the server cancels it (compaction: WatchCanceledError with compactRevision) or it cannot
 * be resumed, and `end` when it is over. Each event is delivered exactly once, in revision
 * order: after a reconnect the watch resumes at the last delivered revision + 1 and drops
 * anything older (the dedupe rule: deliver only modRevision >= nextRevision).
 */
export class Watch extends EventEmitter {
  /** Server watch id on the current stream; undefined while (re)creating. */
  id: string | undefined;
  /** The next revision this watch has not delivered yet; 0n until the first created. */
  nextRevision: bigint;
  /** User canceled: nothing more is delivered. */
  closing = false;
  private finished = false;
  private failure: Error | undefined;
  private readonly buffer: WatchEvent[] = [];
  private iterating = false;
  private wakeReader: (() => void) | undefined;
  private readonly createdSignal: { promise: Promise<void>; resolve: () => void; reject: (error: Error) => void };
  private wasCreated = false;

  constructor(
    private readonly manager: WatchManager,
    readonly key: Buffer,
    readonly options: WatchOptions,
  ) {
    super();
    this.nextRevision = options.startRevision ?? 0n;
    let resolve!: () => void;
    let reject!: (error: Error) => void;
    const promise = new Promise<void>((res, rej) => ((resolve = res), (reject = rej)));
    promise.catch(() => undefined);
    this.createdSignal = { promise, resolve, reject };
  }

  /** Resolves once the server has accepted the watch the first time. */
  get created(): Promise<void> {
    return this.createdSignal.promise;
  }

  get isDone(): boolean {
    return this.finished;
  }

  get error(): Error | undefined {
    return this.failure;
  }

  /** Stops the watch; no event is delivered after this resolves. */
  cancel(): Promise<void> {
    return this.manager.cancel(this);
  }

  /** @internal the server accepted the (re)created watch. */
  markCreated(id: string, headerRevision: bigint): void {
    this.id = id;
    if (this.nextRevision === 0n) this.nextRevision = headerRevision + 1n;
    if (!this.wasCreated) {
      this.wasCreated = true;
      this.createdSignal.resolve();
    }
  }

  /** @internal one WatchResponse for this watch; drops events already delivered. */
  deliver(wire: Wire): void {
    if (this.finished || this.closing) return;
    const header = decodeHeader(wire.header);
    const events = (wire.events ?? []).map(decodeEvent).filter((event: WatchEvent) => event.kv.modRevision >= this.nextRevision);
    if (events.length === 0) {
      // Progress notification: the watch is caught up to header.revision.
      if ((wire.events ?? []).length === 0 && header.revision >= this.nextRevision) this.nextRevision = header.revision + 1n;
      return;
    }
    this.nextRevision = events[events.length - 1]!.kv.modRevision + 1n;
    if (this.iterating) {
      if (this.buffer.length + events.length > MAX_BUFFERED_EVENTS) {
        this.fail(new ClientError(`watch: more than ${MAX_BUFFERED_EVENTS} events buffered for a reader that is not reading`));
        return;
      }
      this.buffer.push(...events);
      this.wake();
    }
    this.emit('events', events, header);
  }

  /** @internal the watch is over with an error. */
  fail(error: Error): void {
    if (this.finished) return;
    this.failure = error;
    this.createdSignal.reject(error);
    if (this.listenerCount('error') > 0) this.emit('error', error);
    this.finish();
  }

  /** @internal the watch is over. */
  finish(): void {
    if (this.finished) return;
    this.finished = true;
    this.createdSignal.reject(this.failure ?? new ClientError('watch canceled before it was created'));
    this.wake();
    this.emit('end');
  }

  private wake(): void {
    const wake = this.wakeReader;
    this.wakeReader = undefined;
    wake?.();
  }

  /** Events one by one; ends when the watch is canceled, throws when it fails. */
  async *[Symbol.asyncIterator](): AsyncGenerator<WatchEvent, void, undefined> {
    this.iterating = true;
    try {
      for (;;) {
        const next = this.buffer.shift();
        if (next !== undefined) {
          yield next;
          continue;
        }
        if (this.finished) {
          if (this.failure !== undefined) throw this.failure;
          return;
        }
        await new Promise<void>((resolve) => (this.wakeReader = resolve));
      }
    } finally {
      this.iterating = false;
      if (!this.finished) await this.cancel();
    }
  }
}

function decodeEvent(wire: Wire): WatchEvent {
  const event: WatchEvent = { type: wire.type === 1 || wire.type === 'DELETE' ? 'delete' : 'put', kv: decodeKeyValue(wire.kv ?? {}) };
  if (wire.prev_kv) event.prevKv = decodeKeyValue(wire.prev_kv);
  return event;
}

function encodeCreate(watch: Watch): Wire {
  const options = watch.options;
  const rangeEnd = options.prefix === true ? prefixEnd(watch.key) : options.rangeEnd === undefined ? undefined : toBuffer(options.rangeEnd);
  return {
    create_request: {
      key: watch.key,
      range_end: rangeEnd,
      start_revision: String(watch.nextRevision),
      progress_notify: options.progressNotify === true,
      filters: (options.filters ?? []).map((filter) => (filter === 'noput' ? 0 : 1)),
      prev_kv: options.prevKv === true,
    },
  };
}

/**
 * All watches of a client share one bidi Watch stream. Creates go out one at a time and the
 * `created` answers are paired with them in order (etcd answers creates in request order).
 * When the stream breaks, every live watch is re-created on a new stream (possibly another
 * endpoint) from its nextRevision, after an exponential backoff. The stream is closed when
 * no watch is left, as the Go client does.
 */
export class WatchManager {
  private stream: grpc.ClientDuplexStream<Wire, Wire> | undefined;
  private endpointIndex = 0;
  private readonly active = new Map<string, Watch>();
  private pending: Watch[] = [];
  private awaitingCreated: Watch | undefined;
  private reconnectAttempt = 0;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(private readonly connection: Connection) {}

  /** Starts a watch; resolves once the server has created it. */
  async watch(key: Bytes, options: WatchOptions = {}): Promise<Watch> {
    if (this.closed) throw new ClientError('watch manager is closed');
    const watch = new Watch(this, toBuffer(key), options);
    this.pending.push(watch);
    this.pump();
    await watch.created;
    return watch;
  }

  /** @internal */
  async cancel(watch: Watch): Promise<void> {
    if (watch.isDone) return;
    watch.closing = true;
    this.pending = this.pending.filter((other) => other !== watch);
    if (watch.id !== undefined && this.active.get(watch.id) === watch) {
      this.active.delete(watch.id);
      this.stream?.write({ cancel_request: { watch_id: watch.id } });
    }
    // A watch awaiting its created answer is canceled when that answer arrives.
    if (this.awaitingCreated !== watch) watch.finish();
    this.closeIfIdle();
  }

  /** Drops the stream and every watch. */
  close(): void {
    this.closed = true;
    clearTimeout(this.reconnectTimer);
    const all = [...this.pending, ...this.active.values(), ...(this.awaitingCreated ? [this.awaitingCreated] : [])];
    this.pending = [];
    this.active.clear();
    this.awaitingCreated = undefined;
    this.dropStream();
    for (const watch of all) watch.finish();
  }

  /** Sends the next create if none is in flight, opening the stream when needed. */
  private pump(): void {
    if (this.closed || this.awaitingCreated !== undefined || this.reconnectTimer !== undefined) return;
    const next = this.pending.shift();
    if (next === undefined) return;
    if (this.stream === undefined) {
      if (this.connection.isClosed) {
        for (const watch of [next, ...this.pending.splice(0)]) watch.fail(new ClientError('client is closed'));
        return;
      }
      this.openStream();
    }
    this.awaitingCreated = next;
    next.id = undefined;
    this.stream!.write(encodeCreate(next));
  }

  private openStream(): void {
    const { stream, endpointIndex } = this.connection.openStream('Watch', 'Watch');
    this.stream = stream;
    this.endpointIndex = endpointIndex;
    stream.on('data', (wire: Wire) => {
      if (this.stream === stream) this.onResponse(wire);
    });
    stream.on('error', (error: Error) => {
      if (this.stream === stream) this.onStreamBroken(error);
    });
    stream.on('end', () => {
      if (this.stream === stream) this.onStreamBroken(new ClientError('watch stream ended by the server'));
    });
  }

  private onResponse(wire: Wire): void {
    const id = String(toBigInt(wire.watch_id));
    if (wire.created === true) return this.onCreated(id, wire);
    const watch = this.active.get(id);
    if (watch === undefined) return; // canceled by us, or a progress answer (id -1)
    if (wire.canceled === true) {
      this.active.delete(id);
      const compactRevision = toBigInt(wire.compact_revision);
      watch.fail(new WatchCanceledError(String(wire.cancel_reason ?? ''), compactRevision));
      this.closeIfIdle();
      return;
    }
    watch.deliver(wire);
  }

  private onCreated(id: string, wire: Wire): void {
    const watch = this.awaitingCreated;
    this.awaitingCreated = undefined;
    if (watch === undefined) return;
    if (wire.canceled === true) {
      watch.fail(new WatchCanceledError(String(wire.cancel_reason ?? 'watch create refused'), toBigInt(wire.compact_revision)));
    } else if (watch.closing) {
      this.stream?.write({ cancel_request: { watch_id: id } });
      watch.finish();
    } else {
      this.reconnectAttempt = 0;
      this.active.set(id, watch);
      watch.markCreated(id, decodeHeader(wire.header).revision);
    }
    this.pump();
    this.closeIfIdle();
  }

  /** Re-queues every live watch (in creation order) and reconnects after a backoff. */
  private onStreamBroken(error: Error): void {
    const etcdError = toEtcdError(error);
    this.dropStream();
    this.connection.failedOver(this.endpointIndex);
    const requeue = [...(this.awaitingCreated ? [this.awaitingCreated] : []), ...this.active.values()].filter((watch) => !watch.closing);
    this.awaitingCreated = undefined;
    this.active.clear();
    this.pending = [...requeue, ...this.pending.filter((watch) => !requeue.includes(watch))];
    if (this.pending.length === 0 || this.closed) return;
    if (this.reconnectAttempt >= MAX_RECONNECT_ATTEMPTS || this.connection.isClosed) {
      const failed = this.pending;
      this.pending = [];
      for (const watch of failed) watch.fail(etcdError);
      return;
    }
    const delayMs = this.connection.backoffDelayMs(this.reconnectAttempt++);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      this.pump();
    }, delayMs);
  }

  private dropStream(): void {
    const stream = this.stream;
    this.stream = undefined;
    if (stream === undefined) return;
    stream.on('error', () => undefined);
    stream.end();
    stream.cancel();
  }

  private closeIfIdle(): void {
    if (this.active.size === 0 && this.pending.length === 0 && this.awaitingCreated === undefined) this.dropStream();
  }
}

/**
 * Waits for the first event matching `match` on `watch`. Rejects when the watch fails, ends,
 * or `signal` aborts. Does not cancel the watch.
 */
export function waitForEvent(watch: Watch, match: (event: WatchEvent) => boolean, signal?: AbortSignal): Promise<WatchEvent> {
  return new Promise<WatchEvent>((resolve, reject) => {
    const cleanup = (): void => {
      watch.off('events', onEvents);
      watch.off('end', onEnd);
      signal?.removeEventListener('abort', onAbort);
    };
    const onEvents = (events: WatchEvent[], _header: ResponseHeader): void => {
      const found = events.find(match);
      if (found === undefined) return;
      cleanup();
      resolve(found);
    };
    const onEnd = (): void => {
      cleanup();
      reject(watch.error ?? new ClientError('watch ended'));
    };
    const onAbort = (): void => {
      cleanup();
      reject(new AbortedError(signal!.reason));
    };
    if (signal?.aborted) return onAbort();
    if (watch.isDone) return onEnd();
    watch.on('events', onEvents);
    watch.on('end', onEnd);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
