import type { Event } from '../types';
import type { EventShaper } from './event-shaping';
import type { HistorySource } from './types';
import type { Watcher } from './watcher';

export interface CatchUpLimits {
  /** Revisions per HistorySource read (etcd's replay window). */
  windowRevisions: bigint;
  /** Distinct revisions per replay response (etcd's watchBatchMaxRevs = 1000). */
  maxRevisionsPerBatch: number;
  /** A replay response is sent early, at a revision boundary, once it holds this many events. */
  maxPendingEvents: number;
  /** Revisions one step may scan for one watcher, so one slow watcher cannot stall the loop. */
  scanBudgetRevisions: bigint;
}

export type CatchUpResult =
  | { kind: 'synced' }
  | { kind: 'more' }
  | { kind: 'compacted'; compactRevision: bigint };

/**
 * One bounded step of replaying history to an unsynced watcher, as etcd's syncWatchers
 * does: events are gathered from watcher.nextRevision on and sent in responses of at most
 * maxRevisionsPerBatch distinct revisions with header.revision = the current revision.
 * 'synced' means every revision up to the current one was delivered: the caller moves the
 * watcher to the synced group, whose live events start at current + 1.
 */
export function catchUpStep(
  watcher: Watcher,
  history: HistorySource,
  shaper: EventShaper,
  limits: CatchUpLimits,
): CatchUpResult {
  const current = history.currentRevision();
  const compacted = history.compactedRevision();
  if (watcher.nextRevision < compacted) return { kind: 'compacted', compactRevision: compacted };
  let scanned = 0n;
  while (scanned < limits.scanBudgetRevisions && watcher.nextRevision <= current) {
    const from = watcher.nextRevision;
    const to = minBigint(current, from + limits.windowRevisions - 1n);
    const events = history.eventsBetween(from, to, watcher.range.key, watcher.range.rangeEnd);
    for (const event of events) {
      if (!startsNewBatch(watcher, event, from, to, limits)) {
        watcher.pendingEvents.push(event);
        continue;
      }
      watcher.nextRevision = event.kv.modRevision;
      flush(watcher, shaper, current);
      return { kind: 'more' };
    }
    watcher.nextRevision = to + 1n;
    scanned += to - from + 1n;
  }
  if (watcher.nextRevision <= current) return { kind: 'more' };
  flush(watcher, shaper, current);
  return { kind: 'synced' };
}

/**
 * Accounts for `event` in the pending batch; true when the batch is full and the event
 * must go into the next one instead.
 */
function startsNewBatch(watcher: Watcher, event: Event, from: bigint, to: bigint, limits: CatchUpLimits): boolean {
  const revision = event.kv.modRevision;
  if (revision < from || revision > to) {
    throw new Error(`history returned revision ${revision} outside [${from}, ${to}]`);
  }
  const last = watcher.pendingEvents[watcher.pendingEvents.length - 1];
  if (last !== undefined && revision < last.kv.modRevision) {
    throw new Error(`history returned revision ${revision} after ${last.kv.modRevision}`);
  }
  if (last !== undefined && revision === last.kv.modRevision) return false;
  const full =
    watcher.pendingRevisionCount >= limits.maxRevisionsPerBatch ||
    watcher.pendingEvents.length >= limits.maxPendingEvents;
  if (full) return true;
  watcher.pendingRevisionCount += 1;
  return false;
}

function flush(watcher: Watcher, shaper: EventShaper, current: bigint): void {
  const events = watcher.pendingEvents;
  watcher.clearPending();
  watcher.sendEvents(current, shaper.shape(watcher, events));
}

function minBigint(a: bigint, b: bigint): bigint {
  return a < b ? a : b;
}
