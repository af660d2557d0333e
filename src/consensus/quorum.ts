/** Majority arithmetic over the voter set (one-at-a-time changes: no joint configurations). */
import type { NodeId } from './types';

export type VoteResult = 'won' | 'lost' | 'pending';

/** Reused by majorityCommittedIndex: it runs for every ack, so it allocates nothing. */
const scratchMatches: bigint[] = [];

/**
 * The largest index stored on a majority of voters: the voters' match indexes sorted
 * descending (insertion sort: a handful of voters), the one at position quorum-1.
 */
export function majorityCommittedIndex(voters: ReadonlySet<NodeId>, matchOf: (id: NodeId) => bigint): bigint {
  if (voters.size === 0) throw new Error('committed index of an empty voter set');
  const matches = scratchMatches;
  let n = 0;
  for (const id of voters) {
    const match = matchOf(id);
    let i = n++;
    for (; i > 0 && matches[i - 1]! < match; i--) matches[i] = matches[i - 1]!;
    matches[i] = match;
  }
  return matches[Math.floor(n / 2)]!;
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
