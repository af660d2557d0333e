import type { MemberPort, RequestContext, ResponseHeader } from '../api/member-port';
import { EventType } from '../storage/mvcc/types';
import { lastCreatedBeforeRange } from './keys';
import { throwIfCanceled } from './request-errors';
import { WatchSubscription } from './watch-subscription';

/**
 * Bound on the predecessors one wait goes through. Each pass waits for one deletion and the
 * queue ahead of a waiter only shrinks (keys created later are not ahead of it), so this is
 * a safety bound, far above any real queue.
 */
export const MAX_PREDECESSORS = 1_000_000;

/** Resolves when `key` is deleted at or after `startRevision` (Go: waitDelete). */
export async function waitDelete(member: MemberPort, key: Buffer, startRevision: bigint, ctx: RequestContext): Promise<void> {
  const watch = new WatchSubscription(member.watch, { key, rangeEnd: Buffer.alloc(0), startRevision }, ctx.signal);
  try {
    // Bounded by the client's signal: every batch is either a PUT of the key or its DELETE.
    for (;;) {
      const batch = await watch.next();
      if (batch.events.some((event) => event.type === EventType.DELETE)) return;
    }
  } finally {
    watch.close();
  }
}

/**
 * Waits until no key under `prefix` created at or before `maxCreateRevision` remains, watching
 * only the newest such key each time (no thundering herd), and returns the header of the
 * Range that found none (Go: waitDeletes).
 */
export async function waitDeletes(
  member: MemberPort,
  prefix: Buffer,
  maxCreateRevision: bigint,
  ctx: RequestContext,
): Promise<ResponseHeader> {
  if (maxCreateRevision <= 0n) throw new Error(`waitDeletes needs a positive revision, got ${maxCreateRevision}`);
  for (let pass = 0; pass < MAX_PREDECESSORS; pass++) {
    throwIfCanceled(ctx.signal);
    const answer = await member.kv.range(lastCreatedBeforeRange(prefix, maxCreateRevision), ctx);
    const predecessor = answer.result.kvs[0];
    if (predecessor === undefined) return answer.header;
    await waitDelete(member, predecessor.key, answer.header.revision, ctx);
  }
  throw new Error(`waitDeletes went through ${MAX_PREDECESSORS} predecessors under ${prefix.toString()}`);
}
