import type { RaftStatus } from '../consensus';
import type { PeerTransport } from '../transport/types';
import type { Membership } from './membership';
import type { ReconfigView } from './reconfig-check';

/*
 * Leadership questions a member answers from a Raft status snapshot: who should lead
 * next, whether a learner may vote, and how membership looks to --strict-reconfig-check.
 * Split out of member.ts as plain functions of what they read, so each can be checked
 * without a running member.
 */

/** The membership and peer links as --strict-reconfig-check judges them (reconfig-check.ts). */
export function reconfigView(selfId: bigint, membership: Membership, transport: PeerTransport | undefined): ReconfigView {
  return {
    selfId,
    members: membership.list(),
    activeSince: (id) => transport?.activeSince?.(id),
    nowMs: Date.now(),
  };
}

/** Whether a learner has caught up enough to vote (etcd: within 10% of the leader's log). */
export function learnerIsReady(status: RaftStatus, selfId: bigint, id: bigint): boolean {
  const progress = status.progress?.get(id);
  if (progress === undefined) return false;
  const leaderMatch = status.progress?.get(selfId)?.match ?? status.commit;
  return progress.match * 10n >= leaderMatch * 9n;
}

/** The most caught-up voter other than this member: the best heir on shutdown. */
export function bestTransferee(status: RaftStatus, voters: readonly bigint[], selfId: bigint): bigint | undefined {
  const progress = status.progress;
  if (progress === undefined) return undefined;
  let best: { id: bigint; match: bigint } | undefined;
  for (const id of voters) {
    if (id === selfId) continue;
    const match = progress.get(id)?.match ?? 0n;
    if (best === undefined || match > best.match) best = { id, match };
  }
  return best?.id;
}

/** Polls (bounded by `timeoutMs`) until `target` is the known leader. */
export async function waitUntilLeads(target: bigint, timeoutMs: number, leaderId: () => bigint): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (leaderId() === target) return true;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return leaderId() === target;
}
