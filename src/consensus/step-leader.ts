/** Message handling while leader (etcd's stepLeader). */
import { ProposalDroppedError } from './errors';
import { MessageType, newMessage, NONE, type Message } from './messages';
import { majorityVoteResult } from './quorum';
import { MAX_PENDING_READS } from './read-only';
import type { Raft } from './raft';
import { EntryType, type Entry } from './types';

export function stepLeader(r: Raft, m: Message): void {
  switch (m.type) {
    case MessageType.Beat:
      r.bcastHeartbeat();
      return;
    case MessageType.CheckQuorum:
      checkQuorum(r);
      return;
    case MessageType.Prop:
      handleProposal(r, m);
      return;
    case MessageType.ReadIndex:
      handleReadIndex(r, m);
      return;
  }
  const pr = r.tracker.progress.get(m.from);
  if (!pr) {
    r.logger.debug({ id: r.id, from: m.from }, 'raft: no progress available for sender');
    return;
  }
  switch (m.type) {
    case MessageType.AppResp:
      handleAppendResponse(r, m);
      return;
    case MessageType.HeartbeatResp:
      handleHeartbeatResponse(r, m);
      return;
    case MessageType.SnapStatus:
      if (pr.state !== 'snapshot') return;
      if (m.reject) pr.pendingSnapshot = 0n; // failed: probe from match again
      pr.becomeProbe();
      // Wait for a heartbeat response (proof the follower is up) before the next probe.
      pr.probeSent = true;
      return;
    case MessageType.Unreachable:
      // Optimistic appends were likely lost: fall back to probing.
      if (pr.state === 'replicate') pr.becomeProbe();
      return;
    case MessageType.TransferLeader:
      handleTransferLeader(r, m);
      return;
  }
}

function checkQuorum(r: Raft): void {
  if (!r.tracker.quorumActive(r.id)) {
    r.logger.warn({ id: r.id, term: r.term }, 'raft: stepped down to follower since quorum is not active');
    r.becomeFollower(r.term, NONE);
  }
  // Start a fresh activity window.
  for (const [id, pr] of r.tracker.progress) if (id !== r.id) pr.recentActive = false;
}

function handleProposal(r: Raft, m: Message): void {
  if (m.entries.length === 0) throw new Error('raft: stepped empty MsgProp');
  if (!r.tracker.progress.has(r.id)) {
    // We were removed from the configuration while leader.
    throw new ProposalDroppedError('raft proposal dropped: leader is not a member');
  }
  if (r.leadTransferee !== NONE) throw new ProposalDroppedError('raft proposal dropped: leadership transfer in progress');
  const entries: Entry[] = m.entries.map((e, i) => {
    if (e.type !== EntryType.ConfChange) return e;
    if (r.pendingConfIndex > r.raftLog.applied) {
      // One conf change at a time: neutralise this one rather than fail the whole batch.
      r.logger.info({ id: r.id }, 'raft: ignoring conf change while one is pending');
      return { ...e, type: EntryType.Normal, data: new Uint8Array(0) };
    }
    r.pendingConfIndex = r.raftLog.lastIndex() + BigInt(i) + 1n;
    return e;
  });
  if (!r.increaseUncommittedSize(entries)) {
    throw new ProposalDroppedError('raft proposal dropped: too many uncommitted entry bytes');
  }
  r.appendEntry(entries);
  r.appendEntriesLater();
}

function handleReadIndex(r: Raft, m: Message): void {
  // Until the leader commits an entry of its term it does not know the latest commit index.
  if (!r.committedEntryInCurrentTerm()) {
    if (r.pendingReadIndexMessages.length < MAX_PENDING_READS) r.pendingReadIndexMessages.push(m);
    return;
  }
  if (r.tracker.isSingleton()) respondToReadIndex(r, m, r.raftLog.committed);
  else sendReadIndexHeartbeat(r, m);
}

/**
 * Whether a voter's own MsgReadIndex, with ours, already makes a quorum (3 voters: always).
 * The requester made it after its client's read began and sent it to us because it was
 * following us as leader of some term T' (a follower's term moves on only with its leader
 * forgotten), and our term now is at least T'; so at that moment it had voted in no term
 * above ours, and we have not either. A leader of a newer term elected before the read
 * began would have needed a majority that includes one of us two, so none existed; every
 * write acknowledged before the read was committed in our term or before, and our commit
 * index (we have committed in our term) covers them all. The heartbeat round would prove
 * nothing more. The proof holds for this request alone (its requester's moment may precede
 * the start of reads queued earlier), so it is answered on its own and the queue is left
 * as it is.
 */
function requesterCompletesQuorum(r: Raft, m: Message): boolean {
  if (m.from === NONE || m.from === r.id || !r.tracker.voters.has(m.from)) return false;
  const acks = new Map([[r.id, true], [m.from, true]]);
  return majorityVoteResult(r.tracker.voters, acks) === 'won';
}

function sendReadIndexHeartbeat(r: Raft, m: Message): void {
  if (requesterCompletesQuorum(r, m)) {
    respondToReadIndex(r, m, r.raftLog.committed);
    return;
  }
  if (!r.readOnly.addRequest(r.raftLog.committed, m)) return; // too many pending: dropped
  r.readOnly.recvAck(r.id, m.context);
  r.bcastHeartbeat(m.context);
}

/** After the first commit of the term, serve reads that waited for it. */
export function releasePendingReadIndexMessages(r: Raft): void {
  if (r.pendingReadIndexMessages.length === 0 || !r.committedEntryInCurrentTerm()) return;
  const pending = r.pendingReadIndexMessages;
  r.pendingReadIndexMessages = [];
  for (const m of pending) {
    if (r.tracker.isSingleton()) respondToReadIndex(r, m, r.raftLog.committed);
    else sendReadIndexHeartbeat(r, m);
  }
}

function respondToReadIndex(r: Raft, request: Message, index: bigint): void {
  if (request.from === NONE || request.from === r.id) {
    r.readStates.push({ index, context: request.context });
    return;
  }
  r.send(newMessage({ type: MessageType.ReadIndexResp, to: request.from, index, context: request.context }));
}

function handleAppendResponse(r: Raft, m: Message): void {
  const pr = r.tracker.progress.get(m.from)!;
  pr.recentActive = true;
  if (m.reject) {
    let nextProbeIndex = m.rejectHint;
    if (m.logTerm > 0n) {
      // Skip every entry of ours whose term is above the follower's term at its hint.
      nextProbeIndex = r.raftLog.findConflictByTerm(m.rejectHint, m.logTerm)[0];
    }
    if (pr.maybeDecrTo(m.index, nextProbeIndex)) {
      if (pr.state === 'replicate') pr.becomeProbe();
      r.sendAppend(m.from);
    }
    return;
  }
  const oldPaused = pr.isPaused();
  if (!pr.maybeUpdate(m.index)) return;
  if (pr.state === 'probe') {
    pr.becomeReplicate();
  } else if (pr.state === 'snapshot' && pr.match >= pr.pendingSnapshot) {
    pr.becomeProbe();
    pr.becomeReplicate();
  } else if (pr.state === 'replicate') {
    pr.inflights.freeLE(m.index);
  }
  if (r.maybeCommit()) {
    releasePendingReadIndexMessages(r);
    r.broadcastCommitLater();
  } else if (oldPaused) {
    // The follower was paused and now has room: send what it is missing.
    r.sendAppend(m.from);
  }
  // Fill the in-flight window (bounded by its capacity).
  for (let i = 0; i <= r.maxInflight && r.maybeSendAppend(m.from, false); i++);
  if (m.from === r.leadTransferee && pr.match === r.raftLog.lastIndex()) {
    r.logger.info({ id: r.id, to: m.from }, 'raft: sent TimeoutNow after log caught up');
    r.sendTimeoutNow(m.from);
  }
}

function handleHeartbeatResponse(r: Raft, m: Message): void {
  const pr = r.tracker.progress.get(m.from)!;
  pr.recentActive = true;
  pr.probeSent = false;
  // Free one slot so a full window cannot stall forever on lost acks.
  if (pr.state === 'replicate' && pr.inflights.full()) pr.inflights.freeFirstOne();
  if (pr.match < r.raftLog.lastIndex()) r.sendAppend(m.from);
  if (m.context.length === 0) return;
  const acks = r.readOnly.recvAck(m.from, m.context);
  if (!acks || majorityVoteResult(r.tracker.voters, acks) !== 'won') return;
  for (const status of r.readOnly.advance(m.context)) respondToReadIndex(r, status.request, status.index);
}

function handleTransferLeader(r: Raft, m: Message): void {
  const transferee = m.from;
  const pr = r.tracker.progress.get(transferee)!;
  if (pr.isLearner) {
    r.logger.debug({ id: r.id, transferee }, 'raft: ignored transferring leadership to a learner');
    return;
  }
  if (r.leadTransferee !== NONE) {
    if (r.leadTransferee === transferee) return; // same transfer already under way
    r.abortLeaderTransfer();
  }
  if (transferee === r.id) return; // already leader
  // The transfer must finish within one election timeout.
  r.electionElapsed = 0;
  r.leadTransferee = transferee;
  if (pr.match === r.raftLog.lastIndex()) r.sendTimeoutNow(transferee);
  else r.sendAppend(transferee);
}
