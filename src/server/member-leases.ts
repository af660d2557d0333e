import { setTimeout as sleep } from 'node:timers/promises';
import { status as GrpcStatus } from '@grpc/grpc-js';
import type { NodeId } from '../consensus';
import { Errors } from '../errors';
import type { Logger } from '../log';
import { PeerCallError, type TimeToLiveAnswer, type TimeToLiveQuery } from '../transport';
import type { RequestContext } from '../api/member-port';
import type { Lessor } from '../lease/lessor';
import type { MvccStore } from '../storage/mvcc';
import type { Proposal } from './proposal';

/*
 * The member's side of leases that is not the lessor itself: rebuilding the lease table
 * from LMDB and renewing on the leader. Split out of member.ts as plain functions of the
 * lessor, the store and the propose path they use.
 */

/**
 * Rebuilds the in-memory lease table from LMDB at start: the leases, then which keys are
 * attached to each (one scan of the live keys).
 */
export function restoreLeases(lessor: Lessor, store: MvccStore, nowMs: number): void {
  for (const record of store.listLeases()) {
    lessor.grant(record.id, record.ttlSeconds, nowMs, record.remainingSeconds);
  }
  if (lessor.size() === 0) return;
  for (const { key, lease } of store.leasedKeys()) lessor.attach(lease, key);
}

/** Renews here (the leader); clears a stale checkpoint through Raft, as etcd does. */
export function renewLeaseOnLeader(
  lessor: Lessor,
  leaseId: bigint,
  nowMs: number,
  propose: (proposal: Proposal, ctx: RequestContext) => Promise<unknown>,
  logger: Logger,
): bigint {
  const { ttlSeconds, hadCheckpoint } = lessor.renew(leaseId, nowMs);
  if (hadCheckpoint) {
    const clear = { kind: 'leaseCheckpoint' as const, checkpoints: [{ leaseId, remainingSeconds: 0n }] };
    propose(clear, { signal: new AbortController().signal, requireLeader: true }).catch((err: unknown) =>
      logger.debug({ err }, 'clearing a lease checkpoint failed'),
    );
  }
  return ttlSeconds;
}

/** A lease's TimeToLive as this member's lessor sees it: exact on the leader only. */
export function timeToLiveHere(lessor: Lessor, query: TimeToLiveQuery, nowMs: number): TimeToLiveAnswer {
  const lease = lessor.get(query.leaseId);
  const ttlSeconds = lessor.remainingSeconds(query.leaseId, nowMs);
  if (lease === undefined || ttlSeconds < 0n) return { ttlSeconds: -1n, grantedTtlSeconds: 0n, keys: [] };
  return { ttlSeconds, grantedTtlSeconds: lease.ttlSeconds, keys: query.withKeys ? lessor.keysOf(query.leaseId) : [] };
}

/** Forwards of one TimeToLive before it fails with etcd's "request timed out". */
const MAX_TIME_TO_LIVE_FORWARDS = 5;
const TIME_TO_LIVE_RETRY_MS = 100;

export interface TimeToLiveRoute {
  /** Resolves once a leader is known (member-proposals' awaitLeader). */
  awaitLeader(ctx: RequestContext): Promise<void>;
  /** The leader's id, or undefined when this member is the leader or has no peers. */
  remoteLeader(): NodeId | undefined;
  here(query: TimeToLiveQuery): TimeToLiveAnswer;
  forward(leader: NodeId, query: TimeToLiveQuery, signal: AbortSignal): Promise<TimeToLiveAnswer>;
}

/**
 * TimeToLive from the leader, the only member that knows when a lease expires (a follower
 * knows the granted TTL and the last checkpoint only), as etcd forwards it: retried while
 * the leader changes, answered here when this member is the leader. A leader that does not
 * know the forward (an older latchkey, UNIMPLEMENTED) gets the follower's own view, as before.
 */
export async function timeToLiveFromLeader(route: TimeToLiveRoute, query: TimeToLiveQuery, ctx: RequestContext): Promise<TimeToLiveAnswer> {
  for (let attempt = 1; attempt <= MAX_TIME_TO_LIVE_FORWARDS; attempt++) {
    await route.awaitLeader(ctx);
    const leader = route.remoteLeader();
    if (leader === undefined) return route.here(query);
    try {
      return await route.forward(leader, query, ctx.signal);
    } catch (err) {
      if (err instanceof PeerCallError && err.code === GrpcStatus.UNIMPLEMENTED) return route.here(query);
      if (ctx.signal.aborted || attempt === MAX_TIME_TO_LIVE_FORWARDS) break;
      // A stale leader ("not leader") or a dropped call: our view of the leader catches up.
      await sleep(TIME_TO_LIVE_RETRY_MS * attempt, undefined, { signal: ctx.signal }).catch(() => undefined);
    }
  }
  throw Errors.timeout();
}
