/** Message handling while follower, candidate or pre-candidate (etcd's stepFollower/stepCandidate). */
import { ProposalDroppedError } from './errors';
import { MessageType, newMessage, NONE, type Message } from './messages';
import type { Raft } from './raft';
import { restoreSnapshot } from './conf-change';
import { campaign, hup, poll } from './election';

export function stepFollower(r: Raft, m: Message): void {
  switch (m.type) {
    case MessageType.Prop:
      if (r.lead === NONE) throw new ProposalDroppedError('raft proposal dropped: no leader');
      r.send({ ...m, to: r.lead, term: 0n });
      return;
    case MessageType.App:
      r.electionElapsed = 0;
      r.lead = m.from;
      handleAppendEntries(r, m);
      return;
    case MessageType.Heartbeat:
      r.electionElapsed = 0;
      r.lead = m.from;
      handleHeartbeat(r, m);
      return;
    case MessageType.Snap:
      r.electionElapsed = 0;
      r.lead = m.from;
      handleSnapshot(r, m);
      return;
    case MessageType.TransferLeader:
      if (r.lead === NONE) return; // no leader to forward to: dropped
      r.send({ ...m, to: r.lead, term: 0n });
      return;
    case MessageType.TimeoutNow:
      // Leadership transfer: campaign at once, skipping pre-vote and leases.
      hup(r, 'transfer');
      return;
    case MessageType.ReadIndex:
      if (r.lead === NONE) return; // no leader: the caller's read times out and retries
      r.send({ ...m, to: r.lead, term: 0n });
      return;
    case MessageType.ReadIndexResp:
      r.readStates.push({ index: m.index, context: m.context });
      return;
  }
}

export function stepCandidate(r: Raft, m: Message): void {
  const myVoteResponse = r.state === 'precandidate' ? MessageType.PreVoteResp : MessageType.VoteResp;
  switch (m.type) {
    case MessageType.Prop:
      throw new ProposalDroppedError('raft proposal dropped: no leader');
    case MessageType.App:
      r.becomeFollower(m.term, m.from); // always m.term === r.term here
      handleAppendEntries(r, m);
      return;
    case MessageType.Heartbeat:
      r.becomeFollower(m.term, m.from);
      handleHeartbeat(r, m);
      return;
    case MessageType.Snap:
      r.becomeFollower(m.term, m.from);
      handleSnapshot(r, m);
      return;
    case myVoteResponse: {
      const result = poll(r, m.from, m.type, !m.reject);
      if (result === 'won') {
        if (r.state === 'precandidate') {
          campaign(r, 'election');
        } else {
          r.becomeLeader();
          r.bcastAppend();
        }
      } else if (result === 'lost') {
        // A rejected pre-vote carries our term or a higher one; the vote loser stays in term.
        r.becomeFollower(r.term, NONE);
      }
      return;
    }
    case MessageType.TimeoutNow:
      return; // candidates ignore transfer requests
  }
}

function handleAppendEntries(r: Raft, m: Message): void {
  if (m.index < r.raftLog.committed) {
    // Already committed here: tell the leader where we are.
    r.send(newMessage({ type: MessageType.AppResp, to: m.from, index: r.raftLog.committed }));
    return;
  }
  const lastNew = r.raftLog.maybeAppend(m.index, m.logTerm, m.commit, m.entries);
  if (lastNew !== undefined) {
    // A commit-only append that matched told us the commit index; the leader wants no answer.
    if (m.commitOnly === true && m.entries.length === 0) return;
    r.send(newMessage({ type: MessageType.AppResp, to: m.from, index: lastNew }));
    return;
  }
  // Reject with a hint: the largest index ≤ m.index whose term ≤ m.logTerm, so the leader
  // can skip a whole divergent term per round trip.
  const last = r.raftLog.lastIndex();
  const probe = m.index < last ? m.index : last;
  const [hintIndex, hintTerm] = r.raftLog.findConflictByTerm(probe, m.logTerm);
  r.send(newMessage({ type: MessageType.AppResp, to: m.from, index: m.index, reject: true, rejectHint: hintIndex, logTerm: hintTerm }));
}

function handleHeartbeat(r: Raft, m: Message): void {
  r.raftLog.commitTo(m.commit);
  r.send(newMessage({ type: MessageType.HeartbeatResp, to: m.from, context: m.context }));
}

function handleSnapshot(r: Raft, m: Message): void {
  if (!m.snapshot) throw new Error('MsgSnap without snapshot');
  if (restoreSnapshot(r, m.snapshot)) {
    r.logger.info({ id: r.id, index: m.snapshot.metadata.index, term: m.snapshot.metadata.term }, 'raft: restored snapshot');
    r.send(newMessage({ type: MessageType.AppResp, to: m.from, index: r.raftLog.lastIndex() }));
  } else {
    r.send(newMessage({ type: MessageType.AppResp, to: m.from, index: r.raftLog.committed }));
  }
}
