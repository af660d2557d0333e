import { ConfChangeType, type ConfChangeTypeValue } from '../consensus/types';
import type { MemberInfo } from '../api/member-port';
import type { Membership } from './membership';

/**
 * Applies a committed conf change to the membership records (the Raft side, the voter
 * set, stays with the member's Ready loop). Split out of member.ts because it is the one
 * place that maps Raft's change types onto member records. Returns whether the change
 * removed this member.
 */
export function applyToMembership(type: ConfChangeTypeValue, member: MemberInfo, membership: Membership, selfId: bigint): boolean {
  let removedSelf = false;
  switch (type) {
    case ConfChangeType.AddNode:
      if (membership.get(member.id) === undefined) membership.add({ ...member, isLearner: false });
      else membership.promote(member.id);
      break;
    case ConfChangeType.AddLearnerNode:
      membership.add({ ...member, isLearner: true });
      break;
    case ConfChangeType.RemoveNode:
      membership.remove(member.id);
      if (member.id === selfId) removedSelf = true;
      break;
    case ConfChangeType.UpdateNode:
      membership.update(member);
      break;
  }
  return removedSelf;
}
