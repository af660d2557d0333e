import type { Answer, MemberPort, RequestContext, ResponseHeader } from '../api/member-port';
import { EventType, type RangeResult } from '../storage/mvcc/types';
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
    const answer = await newestPredecessor(member, prefix, maxCreateRevision, ctx);
    const predecessor = answer.result.kvs[0];
    if (predecessor === undefined) return answer.header;
    await waitDelete(member, predecessor.key, answer.header.revision, ctx);
  }
  throw new Error(`waitDeletes went through ${MAX_PREDECESSORS} predecessors under ${prefix.toString()}`);
}

/**
 * The newest key ahead of ours, read from this member's own store when that is enough. Every
 * key ahead of ours was created before it, so that set only shrinks; a store at or past our
 * key's revision holds each of them that is still alive. A local read there that finds none
 * proves none remains anywhere, and one that finds a key deleted since only costs a watch
 * that replays the delete from history. The member that ran our txn applied it before
 * answering, so the local read qualifies and the ReadIndex round (a heartbeat round through
 * the leader, twice per contended acquire) is skipped; a store behind our key (not expected)
 * is read again linearizably.
 */
async function newestPredecessor(member: MemberPort, prefix: Buffer, maxCreateRevision: bigint, ctx: RequestContext): Promise<Answer<RangeResult>> {
  const range = lastCreatedBeforeRange(prefix, maxCreateRevision);
  const local = await member.kv.range({ ...range, serializable: true }, ctx);
  if (local.header.revision > maxCreateRevision) return local;
  return member.kv.range(range, ctx);
}
