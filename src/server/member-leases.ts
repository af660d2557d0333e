import type { Logger } from '../log';
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
