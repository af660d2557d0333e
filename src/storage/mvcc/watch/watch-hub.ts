import type { Logger } from '../../../log';
import type { WriteOutcome } from '../types';
import { catchUpStep, type CatchUpLimits } from './catch-up';
import { EventShaper } from './event-shaping';
import { SyncedWatcherIndex } from './synced-index';
import type { HistorySource, WatchResponseSink } from './types';
import type { Watcher } from './watcher';
import { HubWatchStream, type WatcherRegistry } from './watch-stream';

export interface WatchHubOptions {
  history: HistorySource;
  logger: Logger;
  /** etcd default 10 min; each stream adds up to 10% jitter. */
  progressIntervalMs: number;
  /** For the jitter; Math.random by default. */
  random?: () => number;
  /** Default 10,000. A create beyond it is refused (created+canceled, watch id -1). */
  maxWatchersPerStream?: number;
  /** A replay response is cut at a revision boundary once it holds this many events. Default 10,000. */
  maxPendingEventsPerWatcher?: number;
}

/** etcd's watchBatchMaxRevs. */
const MAX_REVISIONS_PER_BATCH = 1000;
/** etcd's maxWatchersPerSync: unsynced watchers served per catch-up pass. */
const MAX_WATCHERS_PER_PASS = 512;

/**
 * The watch fan-out of one member, modelled on etcd's watchableStore: synced watchers get
 * live events from notify(); unsynced ones (started in the past, or whose stream could not
 * take more) are replayed from history by a catch-up loop until they reach the current
 * revision, then join the synced group. No event is lost or repeated across the handover
 * because notify() only ever reports revisions the history already holds.
 */
export class WatchHub implements WatcherRegistry {
  private readonly history: HistorySource;
  private readonly logger: Logger;
  private readonly random: () => number;
  private readonly progressIntervalMs: number;
  private readonly maxWatchersPerStream: number;
  private readonly catchUpLimits: CatchUpLimits;
  private readonly shaper = new EventShaper();
  private readonly synced = new SyncedWatcherIndex();
  private readonly unsynced = new Set<Watcher>();
  private readonly streams = new Set<HubWatchStream>();
  private lastNotifiedRevision = 0n;
  private catchUpScheduled: NodeJS.Immediate | undefined;
  private closed = false;

  constructor(options: WatchHubOptions) {
    if (!(options.progressIntervalMs > 0)) throw new Error('progressIntervalMs must be positive');
    this.history = options.history;
    this.logger = options.logger.child({ component: 'watch' });
    this.random = options.random ?? Math.random;
    this.progressIntervalMs = options.progressIntervalMs;
    this.maxWatchersPerStream = options.maxWatchersPerStream ?? 10_000;
    this.catchUpLimits = {
      windowRevisions: BigInt(MAX_REVISIONS_PER_BATCH),
      maxRevisionsPerBatch: MAX_REVISIONS_PER_BATCH,
      maxPendingEvents: options.maxPendingEventsPerWatcher ?? 10_000,
      scanBudgetRevisions: 10n * BigInt(MAX_REVISIONS_PER_BATCH),
    };
  }

  openStream(sink: WatchResponseSink): HubWatchStream {
    if (this.closed) throw new Error('watch hub is closed');
    const jitterMs = Math.floor(this.random() * (this.progressIntervalMs / 10));
    const limits = { maxWatchers: this.maxWatchersPerStream, progressIntervalMs: this.progressIntervalMs + jitterMs };
    const stream = new HubWatchStream(this, sink, limits, this.logger);
    this.streams.add(stream);
    return stream;
  }

  /**
   * Committed writes, in revision order, after the store applied them: every revision
   * reported here must already be readable through history (currentRevision() >= it).
   */
  notify(outcomes: WriteOutcome[]): void {
    if (this.closed) return;
    let movedToCatchUp = false;
    for (const outcome of outcomes) {
      if (outcome.events.length === 0) continue;
      this.checkOutcome(outcome);
      this.lastNotifiedRevision = outcome.revision;
      for (const [watcher, events] of this.synced.matching(outcome.events)) {
        if (watcher.group !== 'synced' || outcome.revision < watcher.nextRevision) continue;
        if (watcher.owner.isPaused()) {
          watcher.nextRevision = outcome.revision;
          this.moveToUnsynced(watcher);
          movedToCatchUp = true;
          continue;
        }
        watcher.nextRevision = outcome.revision + 1n;
        watcher.sendEvents(outcome.revision, this.shaper.shape(watcher, events));
      }
    }
    if (movedToCatchUp) this.scheduleCatchUp();
  }

  /** A compaction happened: watchers still catching up below it are canceled with compact_revision. */
  compacted(revision: bigint): void {
    if (this.closed) return;
    this.logger.debug({ revision: revision.toString() }, 'compaction noted');
    this.scheduleCatchUp();
  }

  /**
   * The history source was replaced wholesale (a follower installed a snapshot): every
   * watcher replays from where it was against the new history, so none skips a revision.
   */
  restored(): void {
    if (this.closed) return;
    for (const watcher of this.synced.snapshot()) this.moveToUnsynced(watcher);
    this.lastNotifiedRevision = this.history.currentRevision();
    this.scheduleCatchUp();
  }

  watcherCount(): number {
    return this.synced.size + this.unsynced.size;
  }

  /** Watchers replaying history (started in the past, or whose stream fell behind). */
  catchingUpCount(): number {
    return this.unsynced.size;
  }

  /** Stops the catch-up loop and every stream's timer; nothing is sent afterwards. */
  close(): void {
    if (this.closed) return;
    for (const stream of [...this.streams]) stream.close();
    this.closed = true;
    if (this.catchUpScheduled !== undefined) clearImmediate(this.catchUpScheduled);
    this.catchUpScheduled = undefined;
  }

  currentRevision(): bigint {
    return this.history.currentRevision();
  }

  register(watcher: Watcher, startRevision: bigint): void {
    if (watcher.group !== 'unsynced' || this.unsynced.has(watcher)) throw new Error(`watcher ${watcher.id} registered twice`);
    const current = this.history.currentRevision();
    if (startRevision === 0n || startRevision > current) {
      watcher.nextRevision = startRevision > current ? startRevision : current + 1n;
      watcher.group = 'synced';
      this.synced.add(watcher);
      return;
    }
    // etcd treats a negative start like an old one; replay from the first revision.
    watcher.nextRevision = startRevision > 0n ? startRevision : 1n;
    this.unsynced.add(watcher);
    this.scheduleCatchUp();
  }

  unregister(watcher: Watcher): void {
    if (watcher.group === 'synced') this.synced.delete(watcher);
    else if (watcher.group === 'unsynced') this.unsynced.delete(watcher);
    watcher.group = 'removed';
    watcher.clearPending();
  }

  streamClosed(stream: HubWatchStream): void {
    this.streams.delete(stream);
  }

  scheduleCatchUp(): void {
    if (this.closed || this.catchUpScheduled !== undefined || !this.hasRunnableUnsynced()) return;
    this.catchUpScheduled = setImmediate(() => {
      this.catchUpScheduled = undefined;
      this.runCatchUpPass();
    });
  }

  private runCatchUpPass(): void {
    if (this.closed) return;
    let served = 0;
    for (const watcher of [...this.unsynced]) {
      if (served >= MAX_WATCHERS_PER_PASS) break;
      if (watcher.group !== 'unsynced' || watcher.owner.isPaused()) continue;
      served += 1;
      const result = catchUpStep(watcher, this.history, this.shaper, this.catchUpLimits);
      if (watcher.group !== 'unsynced') continue; // canceled from inside the sink
      if (result.kind === 'synced') {
        this.unsynced.delete(watcher);
        watcher.group = 'synced';
        this.synced.add(watcher);
      } else if (result.kind === 'compacted') {
        this.cancelCompacted(watcher, result.compactRevision);
      }
      if (this.closed) return;
    }
    this.scheduleCatchUp();
  }

  /** etcd: created first, then {canceled, compact_revision} with header.revision 0. */
  private cancelCompacted(watcher: Watcher, compactRevision: bigint): void {
    this.unregister(watcher);
    this.logger.debug({ watchId: watcher.id.toString(), compactRevision: compactRevision.toString() }, 'watcher compacted');
    watcher.owner.send({
      headerRevision: 0n,
      watchId: watcher.id,
      created: false,
      canceled: true,
      compactRevision,
      cancelReason: '',
      fragment: watcher.fragment,
      events: [],
    });
  }

  private moveToUnsynced(watcher: Watcher): void {
    this.synced.delete(watcher);
    watcher.group = 'unsynced';
    this.unsynced.add(watcher);
  }

  private hasRunnableUnsynced(): boolean {
    for (const watcher of this.unsynced) if (!watcher.owner.isPaused()) return true;
    return false;
  }

  private checkOutcome(outcome: WriteOutcome): void {
    if (outcome.revision <= this.lastNotifiedRevision) {
      throw new Error(`notify out of order: revision ${outcome.revision} after ${this.lastNotifiedRevision}`);
    }
    const current = this.history.currentRevision();
    if (outcome.revision > current) {
      throw new Error(`notify of revision ${outcome.revision} before history holds it (current ${current})`);
    }
    for (const event of outcome.events) {
      if (event.kv.modRevision !== outcome.revision) {
        throw new Error(`event at revision ${event.kv.modRevision} in outcome of revision ${outcome.revision}`);
      }
    }
  }
}
