import { EventType, type Event } from '../types';
import { WatchFilter } from './types';
import type { Watcher } from './watcher';

/**
 * Turns the store's events into what one watcher receives: NOPUT/NODELETE filters applied,
 * prevKv kept only when the watcher asked for it and never on a creation event
 * (createRevision == modRevision). Returns the input array itself when nothing changes, so
 * a write fanned out to many watchers is not copied per watcher.
 */
export class EventShaper {
  /** Events without prevKv, made once per event and shared by every watcher that needs one. */
  private readonly stripped = new WeakMap<Event, Event>();

  shape(watcher: Watcher, events: Event[]): Event[] {
    if (!this.needsChange(watcher, events)) return events;
    const shaped: Event[] = [];
    for (const event of events) {
      if (isFiltered(watcher, event)) continue;
      shaped.push(this.keepsPrevKv(watcher, event) ? event : this.withoutPrevKv(event));
    }
    return shaped;
  }

  private needsChange(watcher: Watcher, events: Event[]): boolean {
    for (const event of events) {
      if (isFiltered(watcher, event)) return true;
      if (event.prevKv !== undefined && !this.keepsPrevKv(watcher, event)) return true;
    }
    return false;
  }

  private keepsPrevKv(watcher: Watcher, event: Event): boolean {
    if (event.prevKv === undefined) return true;
    return watcher.prevKv && !isCreation(event);
  }

  private withoutPrevKv(event: Event): Event {
    let copy = this.stripped.get(event);
    if (copy === undefined) {
      copy = { type: event.type, kv: event.kv };
      this.stripped.set(event, copy);
    }
    return copy;
  }
}

function isCreation(event: Event): boolean {
  return event.type === EventType.PUT && event.kv.createRevision === event.kv.modRevision;
}

function isFiltered(watcher: Watcher, event: Event): boolean {
  if (watcher.filters.length === 0) return false;
  const filter = event.type === EventType.PUT ? WatchFilter.NOPUT : WatchFilter.NODELETE;
  return watcher.filters.includes(filter);
}
