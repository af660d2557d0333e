/**
 * Elections (etcd raft.go's hup/campaign/poll and the term checks at the top of Step):
 * pre-vote, vote granting, leader leases under CheckQuorum.
 */
import { countConfChanges } from './log';
import { bytesEqual, MessageType, messageTypeName, newMessage, NONE, voteResponseType, type Message, type MessageTypeValue } from './messages';
import type { VoteResult } from './quorum';
import type { Raft } from './raft';
import type { NodeId } from './types';

/** Vote context marking an election forced by leadership transfer (bypasses leases). */
export const CAMPAIGN_TRANSFER = new TextEncoder().encode('CampaignTransfer');

export type CampaignKind = 'prevote' | 'election' | 'transfer';

export function hup(r: Raft, kind: CampaignKind): void {
  if (r.state === 'leader') return;
  if (!r.promotable()) {
    r.logger.warn({ id: r.id }, 'raft: is unpromotable and can not campaign');
    return;
  }
  // A conf change committed but not applied may change who votes: apply it first.
  if (r.raftLog.applied < r.raftLog.committed) {
    const pending = r.raftLog.slice(r.raftLog.applied + 1n, r.raftLog.committed + 1n);
    if (countConfChanges(pending) > 0) {
      r.logger.warn({ id: r.id }, 'raft: cannot campaign, pending configuration changes to apply');
      return;
    }
  }
  campaign(r, kind);
}

export function campaign(r: Raft, kind: CampaignKind): void {
  let voteType: MessageTypeValue;
  let term: bigint;
  if (kind === 'prevote') {
    r.becomePreCandidate();
    voteType = MessageType.PreVote;
    term = r.term + 1n; // the term we would campaign for
  } else {
    r.becomeCandidate();
    voteType = MessageType.Vote;
    term = r.term;
  }
  if (poll(r, r.id, voteResponseType(voteType), true) === 'won') {
    // Single voter: won already.
    if (kind === 'prevote') campaign(r, 'election');
    else r.becomeLeader();
    return;
  }
  const context = kind === 'transfer' ? CAMPAIGN_TRANSFER : new Uint8Array(0);
  const lastIndex = r.raftLog.lastIndex();
  const lastTerm = r.raftLog.lastTerm();
  for (const id of r.tracker.voters) {
    if (id === r.id) continue;
    r.send(newMessage({ type: voteType, to: id, term, index: lastIndex, logTerm: lastTerm, context }));
  }
}

export function poll(r: Raft, id: NodeId, type: MessageTypeValue, granted: boolean): VoteResult {
  r.logger.debug({ id: r.id, from: id, type: messageTypeName(type), granted, term: r.term }, 'raft: received vote');
  r.tracker.recordVote(id, granted);
  return r.tracker.tallyVotes().result;
}

/** Handles m.term vs our term. Returns false if the message is to be ignored. */
export function stepTerm(r: Raft, m: Message): boolean {
  if (m.term === 0n) return true; // local message
  if (m.term > r.term) {
    if (m.type === MessageType.Vote || m.type === MessageType.PreVote) {
      const force = bytesEqual(m.context, CAMPAIGN_TRANSFER);
      const inLease = r.checkQuorum && r.lead !== NONE && r.electionElapsed < r.electionTimeout;
      if (!force && inLease) {
        // We heard from a live leader within the minimum election timeout: do not let a
        // disruptive (e.g. partitioned, rejoining) node depose it.
        r.logger.debug({ id: r.id, from: m.from, term: m.term }, 'raft: ignoring vote in lease');
        return false;
      }
    }
    if (m.type === MessageType.PreVote) {
      // Never change our term in response to a PreVote.
    } else if (m.type === MessageType.PreVoteResp && !m.reject) {
      // A granted pre-vote carries the future term; we bump it when we win the pre-vote.
    } else {
      const leaderMessage = m.type === MessageType.App || m.type === MessageType.Heartbeat || m.type === MessageType.Snap;
      r.becomeFollower(m.term, leaderMessage ? m.from : NONE);
    }
    return true;
  }
  if (m.term < r.term) {
    if ((r.checkQuorum || r.preVote) && (m.type === MessageType.Heartbeat || m.type === MessageType.App)) {
      // A stale leader (e.g. after a partition): tell it our term so it steps down, since
      // with checkQuorum/preVote our higher term would otherwise never reach it.
      r.send(newMessage({ type: MessageType.AppResp, to: m.from }));
    } else if (m.type === MessageType.PreVote) {
      r.send(newMessage({ type: MessageType.PreVoteResp, to: m.from, term: r.term, reject: true }));
    }
    return false;
  }
  return true;
}

export function handleVoteRequest(r: Raft, m: Message): void {
  const canVote =
    r.vote === m.from ||
    (r.vote === NONE && r.lead === NONE) ||
    (m.type === MessageType.PreVote && m.term > r.term);
  const responseType = voteResponseType(m.type);
  if (canVote && r.raftLog.isUpToDate(m.index, m.logTerm)) {
    // Respond with the message's term: for PreVote it is a future term we did not adopt.
    r.send(newMessage({ type: responseType, to: m.from, term: m.term }));
    if (m.type === MessageType.Vote) {
      r.electionElapsed = 0;
      r.vote = m.from;
    }
  } else {
    r.send(newMessage({ type: responseType, to: m.from, term: r.term, reject: true }));
  }
}
