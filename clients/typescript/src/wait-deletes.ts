import type { Client } from './client';
import { AbortedError, SessionExpiredError, TimeoutError } from './errors';
import type { ResponseHeader } from './kv';
import type { Session } from './session';
import { waitForEvent } from './watch';

/** Waiters ahead of us that we wait out one by one; a bound, not an expected size. */
const MAX_PREDECESSORS = 1_000_000;

/**
 * Go clientv3/concurrency waitDeletes: until no key under `prefix` was created at or before
 * `maxCreateRevision`, find the newest such key (Range sort CREATE DESCEND, limit 1,
 * max_create_revision) and watch only it, from the Range's revision, until it is deleted.
 * Each waiter watches just its predecessor, so a release wakes one waiter, not all.
 */
export async function waitDeletes(client: Client, prefix: string, maxCreateRevision: bigint, signal: AbortSignal): Promise<ResponseHeader> {
  for (let round = 0; round < MAX_PREDECESSORS; round++) {
    if (signal.aborted) throw abortReason(signal);
    const newest = await client.kv.range(prefix, {
      prefix: true,
      sortTarget: 'create',
      sortOrder: 'descend',
      limit: 1,
      maxCreateRevision,
    });
    const predecessor = newest.kvs[0];
    if (predecessor === undefined) return newest.header;
    await waitDelete(client, predecessor.key, newest.header.revision, signal);
  }
  throw new Error(`waitDeletes: more than ${MAX_PREDECESSORS} predecessors under ${prefix}`);
}

async function waitDelete(client: Client, key: Buffer, fromRevision: bigint, signal: AbortSignal): Promise<void> {
  const watch = await client.watch(key, { startRevision: fromRevision });
  try {
    await waitForEvent(watch, (event) => event.type === 'delete', signal);
  } catch (error) {
    if (signal.aborted) throw abortReason(signal);
    throw error;
  } finally {
    await watch.cancel();
  }
}

/** The typed error an aborted wait rejects with (the reason set by `waitSignal`). */
export function abortReason(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  return reason instanceof TimeoutError || reason instanceof SessionExpiredError || reason instanceof AbortedError
    ? reason
    : new AbortedError(reason);
}

/**
 * One signal that aborts when the caller's signal does (AbortedError), after `timeoutMs`
 * (TimeoutError), or when the session's lease is lost (SessionExpiredError). Call
 * `dispose()` when the wait is over.
 */
export function waitSignal(session: Session, options: { signal?: AbortSignal; timeoutMs?: number }): { signal: AbortSignal; dispose: () => void } {
  const controller = new AbortController();
  const onCallerAbort = (): void => controller.abort(new AbortedError(options.signal!.reason));
  const onExpired = (): void => controller.abort(new SessionExpiredError());
  if (options.signal?.aborted) onCallerAbort();
  options.signal?.addEventListener('abort', onCallerAbort, { once: true });
  if (session.isExpired) onExpired();
  session.once('expired', onExpired);
  const timeoutMs = options.timeoutMs;
  const timer = timeoutMs === undefined ? undefined : setTimeout(() => controller.abort(new TimeoutError(timeoutMs)), timeoutMs);
  return {
    signal: controller.signal,
    dispose: () => {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onCallerAbort);
      session.off('expired', onExpired);
    },
  };
}
