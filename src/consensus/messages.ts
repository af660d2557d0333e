/**
 * Raft messages, as in etcd's raftpb. Numeric values match etcd's MessageType enum so a
 * trace reads the same. Local messages (Hup, Beat, Unreachable, SnapStatus, CheckQuorum)
 * never cross the network; Prop, ReadIndex and TransferLeader may be forwarded.
 */
import type { Entry, NodeId, Snapshot } from './types';

export const MessageType = {
  Hup: 0,
  Beat: 1,
  Prop: 2,
  App: 3,
  AppResp: 4,
  Vote: 5,
  VoteResp: 6,
  Snap: 7,
  Heartbeat: 8,
  HeartbeatResp: 9,
  Unreachable: 10,
  SnapStatus: 11,
  CheckQuorum: 12,
  TransferLeader: 13,
  TimeoutNow: 14,
  ReadIndex: 15,
  ReadIndexResp: 16,
  PreVote: 17,
  PreVoteResp: 18,
} as const;
export type MessageTypeValue = (typeof MessageType)[keyof typeof MessageType];

const messageTypeNames = Object.fromEntries(Object.entries(MessageType).map(([k, v]) => [v, k])) as Record<
  number,
  string
>;

export function messageTypeName(type: MessageTypeValue): string {
  return messageTypeNames[type] ?? `Unknown(${type})`;
}

/** The id that means "nobody" (no leader, no vote). */
export const NONE: NodeId = 0n;

export interface Message {
  type: MessageTypeValue;
  to: NodeId;
  from: NodeId;
  /** 0 for local messages and forwarded proposals / read-index requests. */
  term: bigint;
  /** App: term of the entry at `index`; Vote: candidate's last log term; AppResp reject: hint term. */
  logTerm: bigint;
  index: bigint;
  entries: Entry[];
  commit: bigint;
  snapshot?: Snapshot;
  reject: boolean;
  rejectHint: bigint;
  /** Heartbeat / ReadIndex / ReadIndexResp: the read request context; Vote: campaign kind. */
  context: Uint8Array;
  /**
   * App: no entries, to a follower whose match already covers `index`, so it only moves the
   * follower's commit index and, when accepted, needs no MsgAppResp (which would tell the
   * leader nothing it does not know). Absent on every other message.
   */
  commitOnly?: boolean;
}

const EMPTY_BYTES = new Uint8Array(0);

/** Builds a message with zero values for everything not given. */
export function newMessage(fields: Partial<Message> & { type: MessageTypeValue }): Message {
  return {
    to: NONE,
    from: NONE,
    term: 0n,
    logTerm: 0n,
    index: 0n,
    entries: [],
    commit: 0n,
    reject: false,
    rejectHint: 0n,
    context: EMPTY_BYTES,
    ...fields,
  };
}

export function isLocalMessage(type: MessageTypeValue): boolean {
  return (
    type === MessageType.Hup ||
    type === MessageType.Beat ||
    type === MessageType.Unreachable ||
    type === MessageType.SnapStatus ||
    type === MessageType.CheckQuorum
  );
}

export function isResponseMessage(type: MessageTypeValue): boolean {
  return (
    type === MessageType.AppResp ||
    type === MessageType.VoteResp ||
    type === MessageType.HeartbeatResp ||
    type === MessageType.Unreachable ||
    type === MessageType.PreVoteResp
  );
}

export function voteResponseType(type: MessageTypeValue): MessageTypeValue {
  if (type === MessageType.Vote) return MessageType.VoteResp;
  if (type === MessageType.PreVote) return MessageType.PreVoteResp;
  throw new Error(`not a vote message: ${messageTypeName(type)}`);
}

export type RaftRole = 'follower' | 'candidate' | 'precandidate' | 'leader';

export interface SoftState {
  lead: NodeId;
  state: RaftRole;
}

/** The answer to a ReadIndex request: reads at `index` are linearizable once applied ≥ index. */
export interface ReadState {
  index: bigint;
  context: Uint8Array;
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** A map key for a byte string (read-index contexts). */
export function bytesKey(bytes: Uint8Array): string {
  let out = '';
  for (const b of bytes) out += b.toString(16).padStart(2, '0');
  return out;
}

export const minBigint = (a: bigint, b: bigint): bigint => (a < b ? a : b);
export const maxBigint = (a: bigint, b: bigint): bigint => (a > b ? a : b);
