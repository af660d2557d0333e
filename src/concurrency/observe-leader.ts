import type { MemberPort, RequestContext, ResponseHeader } from '../api/member-port';
import type { Logger } from '../log';
import { EventType, type KeyValue } from '../storage/mvcc/types';
import { firstCreatedRange, prefixEnd } from './keys';
import { requestCanceled, throwIfCanceled } from './request-errors';
import { WatchSubscription } from './watch-subscription';

/** Receives each observed leader value; the observer waits for it (backpressure). */
export type LeaderSink = (header: ResponseHeader, kv: KeyValue) => Promise<void>;

/**
 * Go's Election.observe: find the first-created key (or wait for the first PUT under the
 * prefix), report it, then follow that key's PUTs until it is deleted, and start over.
 * A resignation alone reports nothing; the next leader does. Rejects only when the client
 * went away; any other failure (lost watch, failed read) ends the observation, as the Go
 * channel closes.
 */
export async function observeLeader(
  member: MemberPort,
  prefix: Buffer,
  ctx: RequestContext,
  sink: LeaderSink,
  logger: Logger,
): Promise<void> {
  try {
    // Each pass waits for a leader and then for its deletion, so it is bounded by the client.
    for (;;) {
      throwIfCanceled(ctx.signal);
      const current = await currentOrNextLeader(member, prefix, ctx);
      await sink(current.header, current.kv);
      await followUntilDeleted(member, current, ctx, sink);
    }
  } catch (err) {
    if (ctx.signal.aborted) throw requestCanceled();
    logger.debug({ prefix: prefix.toString(), err }, 'observation ended');
  }
}

async function currentOrNextLeader(
  member: MemberPort,
  prefix: Buffer,
  ctx: RequestContext,
): Promise<{ header: ResponseHeader; kv: KeyValue }> {
  const answer = await member.kv.range(firstCreatedRange(prefix), ctx);
  const first = answer.result.kvs[0];
  if (first !== undefined) return { header: answer.header, kv: first };
  const watch = new WatchSubscription(member.watch, { key: prefix, rangeEnd: prefixEnd(prefix), startRevision: answer.header.revision }, ctx.signal);
  try {
    for (;;) {
      const batch = await watch.next();
      // Only a PUT names a leader; a replayed DELETE would make this spin.
      const put = batch.events.find((event) => event.type === EventType.PUT);
      if (put !== undefined) return { header: member.watch.headerFor(put.kv.modRevision), kv: put.kv };
    }
  } finally {
    watch.close();
  }
}

async function followUntilDeleted(
  member: MemberPort,
  leader: { header: ResponseHeader; kv: KeyValue },
  ctx: RequestContext,
  sink: LeaderSink,
): Promise<void> {
  const target = { key: leader.kv.key, rangeEnd: Buffer.alloc(0), startRevision: leader.header.revision + 1n };
  const watch = new WatchSubscription(member.watch, target, ctx.signal);
  try {
    for (;;) {
      const batch = await watch.next();
      for (const event of batch.events) {
        if (event.type === EventType.DELETE) return;
        await sink(member.watch.headerFor(batch.headerRevision), event.kv);
      }
    }
  } finally {
    watch.close();
  }
}
