/**
 * Data the Raft core shares with the storage and transport layers. Node ids, terms and
 * indexes are uint64 on the wire, so they are bigint here. This file, like all of
 * consensus/, imports nothing from Node or any package.
 */

export type NodeId = bigint;

export const EntryType = { Normal: 0, ConfChange: 1 } as const;
export type EntryTypeValue = (typeof EntryType)[keyof typeof EntryType];

export interface Entry {
  term: bigint;
  index: bigint;
  type: EntryTypeValue;
  /** Opaque to Raft: an encoded InternalRequest, or an encoded ConfChange. Empty = no-op. */
  data: Uint8Array;
}

/** Persisted before any message that depends on it is sent. */
export interface HardState {
  term: bigint;
  vote: NodeId;
  commit: bigint;
}

export interface ConfState {
  voters: NodeId[];
  learners: NodeId[];
}

export interface SnapshotMetadata {
  index: bigint;
  term: bigint;
  confState: ConfState;
}

export interface Snapshot {
  metadata: SnapshotMetadata;
  /** Opaque to Raft: the state machine image (or a reference to it). */
  data: Uint8Array;
}

export const ConfChangeType = {
  AddNode: 0,
  RemoveNode: 1,
  UpdateNode: 2,
  AddLearnerNode: 3,
} as const;
export type ConfChangeTypeValue = (typeof ConfChangeType)[keyof typeof ConfChangeType];

export interface ConfChange {
  type: ConfChangeTypeValue;
  nodeId: NodeId;
  /** Opaque to Raft: the member record (name, URLs) for the application. */
  context: Uint8Array;
}

export const emptyHardState = (): HardState => ({ term: 0n, vote: 0n, commit: 0n });
