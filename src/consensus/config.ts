/** Configuration of one Raft node (see RawNode for how the caller drives it). */
import type { RaftStorage } from './storage';
import type { NodeId } from './types';

/** Structural subset of a pino logger, so the core needs no logging package. */
export interface RaftLogger {
  debug(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export interface RaftConfig {
  id: NodeId;
  /** Followers start an election after a random timeout in [electionTicks, 2*electionTicks). */
  electionTicks: number;
  /** The leader sends heartbeats every heartbeatTicks; must be < electionTicks. */
  heartbeatTicks: number;
  storage: RaftStorage;
  /** Last applied index at restart (0 for a new node). */
  applied: bigint;
  /** Uniform in [0, 1); seeded in tests. The only source of randomness. */
  random: () => number;
  preVote: boolean;
  checkQuorum: boolean;
  maxInflightMessages: number;
  maxEntriesBytesPerMessage: number;
  /**
   * Bound on the payload bytes a leader holds appended but not yet committed; proposals
   * beyond it throw ProposalDroppedError. 0 or absent = unbounded.
   */
  maxUncommittedEntriesBytes?: number;
  logger?: RaftLogger;
}

export const silentRaftLogger: RaftLogger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
};

export function validateConfig(config: RaftConfig): void {
  if (config.id === 0n) throw new Error('raft: cannot use 0 as id');
  if (!Number.isInteger(config.heartbeatTicks) || config.heartbeatTicks <= 0) throw new Error('raft: heartbeatTicks must be > 0');
  if (!Number.isInteger(config.electionTicks) || config.electionTicks <= config.heartbeatTicks) {
    throw new Error('raft: electionTicks must be greater than heartbeatTicks');
  }
  if (!Number.isInteger(config.maxInflightMessages) || config.maxInflightMessages <= 0) {
    throw new Error('raft: maxInflightMessages must be > 0');
  }
  if (!(config.maxEntriesBytesPerMessage > 0)) throw new Error('raft: maxEntriesBytesPerMessage must be > 0');
  const maxUncommitted = config.maxUncommittedEntriesBytes ?? 0;
  if (!Number.isInteger(maxUncommitted) || maxUncommitted < 0) throw new Error('raft: maxUncommittedEntriesBytes must be ≥ 0');
  if (config.applied < 0n) throw new Error('raft: applied must be ≥ 0');
}
