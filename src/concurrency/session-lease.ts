import type { MemberPort, RequestContext } from '../api/member-port';

/** Go's concurrency.NewSession default TTL, which v3lock/v3election use for lease 0. */
export const DEFAULT_SESSION_TTL_SECONDS = 60n;

/**
 * The lease a Lock or Campaign runs under. A client lease is used as given (it is not checked
 * here: the put that attaches it fails with "requested lease not found"). Lease 0 makes the
 * server grant a 60 s lease that nobody keeps alive, as etcd's orphaned session does, so
 * such a lock is released at the latest 60 s later.
 */
export async function sessionLease(member: MemberPort, lease: bigint, ctx: RequestContext): Promise<bigint> {
  if (lease !== 0n) return lease;
  const granted = await member.lease.grant(DEFAULT_SESSION_TTL_SECONDS, 0n, ctx);
  return granted.result.id;
}
