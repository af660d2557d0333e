/** Majority arithmetic over the voter set (one-at-a-time changes: no joint configurations). */
import type { NodeId } from './types';

export type VoteResult = 'won' | 'lost' | 'pending';

/**
 * The largest index stored on a majority of voters: sort the voters' match indexes
 * descending and take the one at position quorum-1.
 */
export function majorityCommittedIndex(voters: ReadonlySet<NodeId>, matchOf: (id: NodeId) => bigint): bigint {
  if (voters.size === 0) throw new Error('committed index of an empty voter set');
  const matches = [...voters].map(matchOf).sort((a, b) => (a > b ? -1 : a < b ? 1 : 0));
  const quorum = Math.floor(voters.size / 2) + 1;
  return matches[quorum - 1];
}

/** Result of an election (or of a read-index ack round) given the votes seen so far. */
export function majorityVoteResult(voters: ReadonlySet<NodeId>, votes: ReadonlyMap<NodeId, boolean>): VoteResult {
  if (voters.size === 0) return 'won'; // as etcd: an empty config wins trivially
  let granted = 0;
  let missing = 0;
  for (const id of voters) {
    const v = votes.get(id);
    if (v === undefined) missing++;
    else if (v) granted++;
  }
  const quorum = Math.floor(voters.size / 2) + 1;
  if (granted >= quorum) return 'won';
  if (granted + missing >= quorum) return 'pending';
  return 'lost';
}
