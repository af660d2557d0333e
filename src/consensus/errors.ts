/** Every error the Raft core reports to its callers is its own class. */

/** The proposal was not accepted: no leader known, leadership transfer under way, or not a member. */
export class ProposalDroppedError extends Error {
  constructor(reason = 'raft proposal dropped') {
    super(reason);
    this.name = 'ProposalDroppedError';
  }
}

/** A configuration change is already proposed and not yet applied; propose one at a time. */
export class ConfChangePendingError extends ProposalDroppedError {
  constructor() {
    super('raft: a configuration change is already pending');
    this.name = 'ConfChangePendingError';
  }
}

/** The requested index is older than the storage's first index (compacted into a snapshot). */
export class CompactedError extends Error {
  constructor() {
    super('requested index is unavailable due to compaction');
    this.name = 'CompactedError';
  }
}

/** The requested index is beyond the storage's last index. */
export class UnavailableError extends Error {
  constructor() {
    super('requested entry at index is unavailable');
    this.name = 'UnavailableError';
  }
}

/** The snapshot being applied or created is older than the one storage already holds. */
export class SnapshotOutOfDateError extends Error {
  constructor() {
    super('requested index is older than the existing snapshot');
    this.name = 'SnapshotOutOfDateError';
  }
}

/** The storage cannot produce a snapshot right now; the leader retries later. */
export class SnapshotTemporarilyUnavailableError extends Error {
  constructor() {
    super('snapshot is temporarily unavailable');
    this.name = 'SnapshotTemporarilyUnavailableError';
  }
}

/** A local-only message (Hup, Beat, ...) was given to step() as if it came from a peer. */
export class StepLocalMessageError extends Error {
  constructor() {
    super('raft: cannot step raft local message');
    this.name = 'StepLocalMessageError';
  }
}

/** A response message from a peer that the tracker does not know (e.g. removed member). */
export class StepPeerNotFoundError extends Error {
  constructor() {
    super('raft: cannot step as peer not found');
    this.name = 'StepPeerNotFoundError';
  }
}
