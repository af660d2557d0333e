/**
 * Membership: applying one-at-a-time configuration changes (no joint consensus) and
 * restoring the configuration from a snapshot.
 */
import { NONE } from './messages';
import type { Raft } from './raft';
import { ProgressTracker } from './tracker';
import { ConfChangeType, type ConfChange, type ConfState, type Snapshot } from './types';

export function applyConfChange(r: Raft, cc: ConfChange): ConfState {
  const tracker = r.tracker;
  const last = r.raftLog.lastIndex();
  // New members start probing at our last index, like etcd.
  const nextIndex = last > 0n ? last : 1n;
  switch (cc.type) {
    case ConfChangeType.AddNode:
      tracker.addVoter(cc.nodeId, nextIndex);
      break;
    case ConfChangeType.AddLearnerNode:
      tracker.addLearner(cc.nodeId, nextIndex);
      break;
    case ConfChangeType.RemoveNode:
      tracker.remove(cc.nodeId);
      break;
    case ConfChangeType.UpdateNode:
      break; // membership unchanged; the context is for the application
    default:
      throw new Error(`unknown conf change type ${String((cc as ConfChange).type)}`);
  }
  afterConfigChange(r);
  return tracker.confState();
}

function afterConfigChange(r: Raft): void {
  const cs = r.tracker.confState();
  r.logger.info({ id: r.id, voters: cs.voters.map(String), learners: cs.learners.map(String) }, 'raft: configuration changed');
  if (r.state !== 'leader' || r.tracker.voters.size === 0) return;
  if (!r.tracker.voters.has(r.id)) {
    // Removed (or demoted) leader: hand the cluster back by stepping down; the remaining
    // voters elect a new leader, which commits everything we had replicated.
    r.bcastAppend();
    r.becomeFollower(r.term, NONE);
    return;
  }
  // The quorum may have shrunk: entries may now be committed.
  if (r.maybeCommit()) r.bcastAppend();
  else for (const id of r.tracker.progress.keys()) if (id !== r.id) r.maybeSendAppend(id, false);
  if (r.leadTransferee !== NONE && !r.tracker.voters.has(r.leadTransferee)) r.abortLeaderTransfer();
}

/**
 * Follower receiving MsgSnap: adopt the snapshot if it is ahead of our commit index.
 * Returns false if it was ignored (stale, or our log already contains its last entry).
 */
export function restoreSnapshot(r: Raft, snapshot: Snapshot): boolean {
  const { index, term, confState } = snapshot.metadata;
  if (index <= r.raftLog.committed) return false;
  if (r.state !== 'follower') {
    // Only followers take snapshots; step down to a higher term as a safety measure.
    r.becomeFollower(r.term + 1n, NONE);
    return false;
  }
  const member = confState.voters.includes(r.id) || confState.learners.includes(r.id);
  if (!member) {
    r.logger.warn({ id: r.id, index }, 'raft: ignoring snapshot whose configuration does not include us');
    return false;
  }
  if (r.raftLog.matchTerm(index, term)) {
    // We have the snapshot's last entry: just fast-forward the commit index.
    r.raftLog.commitTo(index);
    return false;
  }
  r.raftLog.restore(snapshot);
  r.tracker = ProgressTracker.fromConfState(confState, r.maxInflight, r.raftLog.lastIndex() + 1n);
  r.tracker.progress.get(r.id)?.maybeUpdate(r.raftLog.lastIndex());
  return true;
}

/**
 * Binary encoding of a ConfChange for Entry.data (the core reads no protobuf):
 * [version=1][type:u8][nodeId:u64 BE][contextLength:u32 BE][context].
 */
export function encodeConfChange(cc: ConfChange): Uint8Array {
  const out = new Uint8Array(14 + cc.context.length);
  const view = new DataView(out.buffer);
  out[0] = 1;
  out[1] = cc.type;
  view.setBigUint64(2, cc.nodeId);
  view.setUint32(10, cc.context.length);
  out.set(cc.context, 14);
  return out;
}

export function decodeConfChange(data: Uint8Array): ConfChange {
  if (data.length < 14 || data[0] !== 1) throw new Error('invalid encoded ConfChange');
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const type = data[1];
  if (type > ConfChangeType.AddLearnerNode) throw new Error(`invalid ConfChange type ${type}`);
  const length = view.getUint32(10);
  if (14 + length !== data.length) throw new Error('invalid encoded ConfChange length');
  return {
    type: type as ConfChange['type'],
    nodeId: view.getBigUint64(2),
    context: data.slice(14),
  };
}
