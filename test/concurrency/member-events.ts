import type { InProcessMember } from '../server/member-harness';
import { EventType, type Event } from '../../src/storage/mvcc/types';
import type { WatchResponse } from '../../src/storage/mvcc/watch/types';
import { prefixEnd } from '../../src/concurrency/keys';

/**
 * Resolves with the first event under `prefix` (from revision 1, so past events count too)
 * that matches `predicate`; rejects after `timeoutMs`. Lets a test await "the waiter has
 * queued its key" without sleeping.
 */
export function awaitEvent(
  m: InProcessMember,
  prefix: string,
  predicate: (event: Event) => boolean,
  timeoutMs = 5_000,
): Promise<Event> {
  return new Promise((resolve, reject) => {
    let done = false;
    const finish = (fn: () => void): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      queueMicrotask(() => stream.close());
      fn();
    };
    const timer = setTimeout(() => finish(() => reject(new Error(`no matching event under ${prefix} within ${timeoutMs} ms`))), timeoutMs);
    const stream = m.port.watch.openStream((response: WatchResponse) => {
      const match = response.events.find(predicate);
      if (match !== undefined) finish(() => resolve(match));
    });
    const key = Buffer.from(prefix);
    stream.create({ key, rangeEnd: prefixEnd(key), startRevision: 1n, progressNotify: false, filters: [], prevKv: false, watchId: 0n, fragment: false });
  });
}

export function isPutOf(key: Buffer): (event: Event) => boolean {
  return (event) => event.type === EventType.PUT && event.kv.key.equals(key);
}

export function isDeleteOf(key: Buffer): (event: Event) => boolean {
  return (event) => event.type === EventType.DELETE && event.kv.key.equals(key);
}

/** Whether `promise` has settled by the time already-queued work has run (no timers). */
export async function isSettled(promise: Promise<unknown>): Promise<boolean> {
  let settled = false;
  promise.then(
    () => (settled = true),
    () => (settled = true),
  );
  await new Promise((resolve) => setImmediate(resolve));
  return settled;
}
