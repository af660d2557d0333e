import { Errors, WatchCancelReason } from '../../../errors';
import type { Logger } from '../../../log';
import { WatchKeyRange } from './key-range';
import type { WatchCreateRequest, WatchResponse, WatchResponseSink, WatchStream } from './types';
import { Watcher, type WatcherOwner } from './watcher';

/** What a stream needs from the hub that owns the watcher groups. */
export interface WatcherRegistry {
  currentRevision(): bigint;
  /** Puts a new watcher in the synced or unsynced group according to its start revision. */
  register(watcher: Watcher, startRevision: bigint): void;
  /** Takes a watcher out of whatever group it is in; it never receives anything again. */
  unregister(watcher: Watcher): void;
  streamClosed(stream: HubWatchStream): void;
  /** The stream can take responses again: replay what its watchers missed. */
  scheduleCatchUp(): void;
}

export interface WatchStreamLimits {
  maxWatchers: number;
  progressIntervalMs: number;
}

/**
 * One gRPC Watch stream: watch ids, created/cancel acknowledgements and progress
 * responses, as etcd's serverWatchStream + watchStream pair does them. Ids of watchers
 * canceled by compaction stay reserved until the client cancels them, as in etcd, and
 * such a cancel is acknowledged.
 */
export class HubWatchStream implements WatchStream, WatcherOwner {
  private readonly watchers = new Map<bigint, Watcher>();
  /** etcd's nextID: keeps counting up, so a canceled automatic id is not handed out again soon. */
  private nextAutoId = 0n;
  private closed = false;
  private paused = false;
  private progressTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly registry: WatcherRegistry,
    private readonly sink: WatchResponseSink,
    private readonly limits: WatchStreamLimits,
    private readonly logger: Logger,
  ) {}

  create(req: WatchCreateRequest): void {
    if (this.closed) return;
    const headerRevision = this.registry.currentRevision();
    const range = WatchKeyRange.fromRequest(req.key, req.rangeEnd);
    if (range === undefined) return this.refuseCreate(headerRevision, WatchCancelReason.emptyRange);
    if (req.watchId !== 0n && this.watchers.has(req.watchId)) {
      return this.refuseCreate(headerRevision, WatchCancelReason.duplicateId);
    }
    if (this.watchers.size >= this.limits.maxWatchers) {
      this.logger.warn({ maxWatchers: this.limits.maxWatchers }, 'watch stream is at its watcher limit');
      return this.refuseCreate(headerRevision, Errors.tooManyRequests().message);
    }
    const id = req.watchId !== 0n ? req.watchId : this.takeAutoId();
    const watcher = new Watcher(id, this, range, [...req.filters], req.prevKv, req.progressNotify, req.fragment);
    this.watchers.set(id, watcher);
    // The created response goes out before the watcher can receive anything.
    this.send(this.controlResponse(headerRevision, id, { created: true }));
    if (this.closed || this.watchers.get(id) !== watcher) return;
    this.registry.register(watcher, req.startRevision);
    if (req.progressNotify) this.startProgressTimer();
  }

  cancel(watchId: bigint): void {
    if (this.closed) return;
    const watcher = this.watchers.get(watchId);
    if (watcher === undefined) return;
    this.watchers.delete(watchId);
    if (watcher.isActive()) this.registry.unregister(watcher);
    this.send(this.controlResponse(this.registry.currentRevision(), watchId, { canceled: true }));
  }

  requestProgress(): void {
    if (this.closed) return;
    this.send(this.controlResponse(this.registry.currentRevision(), -1n, {}));
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.stopProgressTimer();
    for (const watcher of this.watchers.values()) if (watcher.isActive()) this.registry.unregister(watcher);
    this.watchers.clear();
    this.registry.streamClosed(this);
  }

  /**
   * Flow control for the transport: while paused, watchers that would receive events are
   * moved to the catch-up path (history is the buffer), so nothing queues up in memory.
   */
  pause(): void {
    this.paused = true;
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    this.registry.scheduleCatchUp();
  }

  isPaused(): boolean {
    return this.paused;
  }

  send(response: WatchResponse): void {
    if (this.closed) return;
    this.sink(response);
  }

  /** Watchers in id order of creation, including compacted ones whose id is still reserved. */
  watcherIds(): bigint[] {
    return [...this.watchers.keys()];
  }

  private takeAutoId(): bigint {
    // Bounded: the map holds at most maxWatchers ids, so at most that many are skipped.
    while (this.watchers.has(this.nextAutoId)) this.nextAutoId += 1n;
    const id = this.nextAutoId;
    this.nextAutoId += 1n;
    return id;
  }

  private refuseCreate(headerRevision: bigint, reason: string): void {
    this.logger.debug({ reason }, 'watch create refused');
    this.send(this.controlResponse(headerRevision, -1n, { created: true, canceled: true, cancelReason: reason }));
  }

  private controlResponse(
    headerRevision: bigint,
    watchId: bigint,
    flags: { created?: boolean; canceled?: boolean; cancelReason?: string },
  ): WatchResponse {
    return {
      headerRevision,
      watchId,
      created: flags.created ?? false,
      canceled: flags.canceled ?? false,
      compactRevision: 0n,
      cancelReason: flags.cancelReason ?? '',
      fragment: false,
      events: [],
    };
  }

  private startProgressTimer(): void {
    if (this.progressTimer !== undefined) return;
    this.progressTimer = setInterval(() => this.progressTick(), this.limits.progressIntervalMs);
  }

  private stopProgressTimer(): void {
    if (this.progressTimer !== undefined) clearInterval(this.progressTimer);
    this.progressTimer = undefined;
  }

  /** etcd's progress ticker: skip a watcher once after it sent events, and only when synced. */
  private progressTick(): void {
    if (this.closed || this.paused) return;
    const revision = this.registry.currentRevision();
    for (const watcher of [...this.watchers.values()]) {
      if (!watcher.progressNotify) continue;
      if (watcher.group === 'synced' && !watcher.sentEventsSinceTick) {
        this.send(this.controlResponse(revision, watcher.id, {}));
        if (this.closed) return;
      }
      watcher.sentEventsSinceTick = false;
    }
  }
}
