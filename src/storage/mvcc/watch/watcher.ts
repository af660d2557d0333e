import type { Event } from '../types';
import type { WatchKeyRange } from './key-range';
import type { WatchFilterValue, WatchResponse } from './types';

/**
 * Where a watcher is in etcd's watchable_store life cycle:
 * - synced: receives live events from notify() for revisions >= nextRevision;
 * - unsynced: the catch-up loop replays history from nextRevision until it reaches the
 *   current revision, then moves the watcher to synced;
 * - removed: canceled, compacted or its stream closed; nothing more is ever sent.
 */
export type WatcherGroup = 'synced' | 'unsynced' | 'removed';

/** What a watcher needs from its stream: where responses go and whether the client keeps up. */
export interface WatcherOwner {
  send(response: WatchResponse): void;
  isPaused(): boolean;
}

export class Watcher {
  group: WatcherGroup = 'unsynced';
  /**
   * The lowest revision not yet delivered (etcd's minRev). Invariant: every event of this
   * watcher with revision < nextRevision has been sent (or filtered), none at or above it.
   * Set by the hub when it registers the watcher.
   */
  nextRevision = 0n;
  /** Progress notifications are skipped for a watcher that sent events since the last tick. */
  sentEventsSinceTick = false;
  /** Catch-up batch being assembled (unfiltered events, at most maxRevisionsPerBatch revisions). */
  pendingEvents: Event[] = [];
  pendingRevisionCount = 0;

  constructor(
    readonly id: bigint,
    readonly owner: WatcherOwner,
    readonly range: WatchKeyRange,
    readonly filters: readonly WatchFilterValue[],
    readonly prevKv: boolean,
    readonly progressNotify: boolean,
    readonly fragment: boolean,
  ) {}

  isActive(): boolean {
    return this.group !== 'removed';
  }

  /** Sends events (already shaped for this watcher) unless there are none. */
  sendEvents(headerRevision: bigint, events: Event[]): void {
    if (events.length === 0) return;
    this.sentEventsSinceTick = true;
    this.owner.send({
      headerRevision,
      watchId: this.id,
      created: false,
      canceled: false,
      compactRevision: 0n,
      cancelReason: '',
      fragment: this.fragment,
      events,
    });
  }

  clearPending(): void {
    this.pendingEvents = [];
    this.pendingRevisionCount = 0;
  }
}
