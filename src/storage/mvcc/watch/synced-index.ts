import type { Event } from '../types';
import type { Watcher } from './watcher';

/**
 * The synced watchers, indexed so that a write finds its single-key watchers by one map
 * lookup instead of scanning every watcher. Range watchers (intervals and from-key) are
 * few in practice (lock waiters watch one key) and are scanned linearly.
 */
export class SyncedWatcherIndex {
  private readonly byKey = new Map<string, Set<Watcher>>();
  private readonly ranges = new Set<Watcher>();
  private count = 0;

  get size(): number {
    return this.count;
  }

  add(watcher: Watcher): void {
    if (watcher.range.kind === 'single') {
      const mapKey = watcher.range.key.toString('latin1');
      let set = this.byKey.get(mapKey);
      if (set === undefined) {
        set = new Set();
        this.byKey.set(mapKey, set);
      }
      if (set.has(watcher)) throw new Error(`watcher ${watcher.id} already synced`);
      set.add(watcher);
    } else {
      if (this.ranges.has(watcher)) throw new Error(`watcher ${watcher.id} already synced`);
      this.ranges.add(watcher);
    }
    this.count += 1;
  }

  delete(watcher: Watcher): void {
    let removed: boolean;
    if (watcher.range.kind === 'single') {
      const mapKey = watcher.range.key.toString('latin1');
      const set = this.byKey.get(mapKey);
      removed = set?.delete(watcher) ?? false;
      if (set !== undefined && set.size === 0) this.byKey.delete(mapKey);
    } else {
      removed = this.ranges.delete(watcher);
    }
    if (!removed) throw new Error(`watcher ${watcher.id} is not synced`);
    this.count -= 1;
  }

  /**
   * The events of one revision grouped by the synced watchers they concern, in event order.
   * A revision with a single event (the common case) shares the caller's array.
   */
  matching(events: Event[]): Map<Watcher, Event[]> {
    const result = new Map<Watcher, Event[]>();
    if (this.count === 0) return result;
    if (events.length === 1) {
      this.forEachWatcherOf(events[0]!, (watcher) => result.set(watcher, events));
      return result;
    }
    for (const event of events) {
      this.forEachWatcherOf(event, (watcher) => {
        const list = result.get(watcher);
        if (list === undefined) result.set(watcher, [event]);
        else list.push(event);
      });
    }
    return result;
  }

  /** Every synced watcher; the callback may move or remove watchers. */
  snapshot(): Watcher[] {
    const all: Watcher[] = [];
    for (const set of this.byKey.values()) for (const watcher of set) all.push(watcher);
    for (const watcher of this.ranges) all.push(watcher);
    return all;
  }

  private forEachWatcherOf(event: Event, visit: (watcher: Watcher) => void): void {
    const key = event.kv.key;
    const exact = this.byKey.get(key.toString('latin1'));
    if (exact !== undefined) for (const watcher of exact) visit(watcher);
    for (const watcher of this.ranges) if (watcher.range.contains(key)) visit(watcher);
  }
}
