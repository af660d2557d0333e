import { Errors } from '../errors';
import type { MemberInfo } from '../api/member-port';

/**
 * etcd's --strict-reconfig-check (on by default): a membership change that would leave the
 * cluster without a working quorum is refused up front, because once applied it cannot be
 * undone without that quorum. Found the hard way: removing a member while the one re-added
 * a moment earlier was still catching up left two voters that could not elect a leader.
 */

/** A peer counts as active if its link has been up this long (etcd's HealthInterval). */
export const HEALTH_INTERVAL_MS = 5_000;

export interface ReconfigView {
  selfId: bigint;
  members: MemberInfo[];
  /** Since when the link to a peer has been up (ms since the epoch); undefined while down. */
  activeSince(id: bigint): number | undefined;
  nowMs: number;
}

const voters = (view: ReconfigView): MemberInfo[] => view.members.filter((m) => !m.isLearner);
/** A member has started once it published its name (etcd's IsStarted). */
const started = (m: MemberInfo): boolean => m.name !== '';

function connectedSince(view: ReconfigView, member: MemberInfo, since: number): boolean {
  if (member.id === view.selfId) return true;
  const up = view.activeSince(member.id);
  return up !== undefined && up <= since;
}

/** etcd's mayRemoveMember. */
export function checkRemove(view: ReconfigView, id: bigint): void {
  const target = view.members.find((m) => m.id === id);
  if (target === undefined || target.isLearner) return;
  const rest = voters(view).filter((m) => m.id !== id);
  if (rest.filter(started).length < Math.floor(rest.length / 2) + 1) throw Errors.notEnoughStartedMembers();
  // A member that is down is not part of the working quorum: removing it costs nothing.
  if (id !== view.selfId && view.activeSince(id) === undefined) return;
  const all = voters(view);
  const active = all.filter((m) => connectedSince(view, m, view.nowMs - HEALTH_INTERVAL_MS)).length;
  if (active - 1 < 1 + Math.floor((all.length - 1) / 2)) throw Errors.unhealthyCluster();
}

/** etcd's mayAddMember for a voter (learners are always allowed). */
export function checkAddVoter(view: ReconfigView): void {
  const all = voters(view);
  const nstarted = all.filter(started).length;
  // A second member for a one-member cluster (restoring from a backup) is always allowed.
  const restoring = nstarted === 1 && all.length === 1;
  if (!restoring && nstarted < Math.floor((all.length + 1) / 2) + 1) throw Errors.notEnoughStartedMembers();
  if (!all.every((m) => connectedSince(view, m, view.nowMs - HEALTH_INTERVAL_MS))) throw Errors.unhealthyCluster();
}
