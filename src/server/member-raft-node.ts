import type { Logger } from '../log';
import { RawNode } from '../consensus';
import type { OpenedStorage } from './bootstrap';
import type { MemberConfig } from './config';
import { raftLogger } from './raft-logger';

/**
 * The Raft node a member drives, with the settings latchkey runs it with (etcd's: pre-vote,
 * check-quorum, one heartbeat per tick). Split out of member.ts so the Raft tuning reads in
 * one place, apart from the wiring of the member's own parts.
 */
export function createRaftNode(
  config: Pick<MemberConfig, 'electionTimeoutMs' | 'heartbeatIntervalMs'>,
  opened: Pick<OpenedStorage, 'memberId' | 'raftStorage' | 'snapshotIndex'>,
  random: () => number,
  rootLogger: Logger,
): RawNode {
  return new RawNode({
    id: opened.memberId,
    electionTicks: Math.max(2, Math.round(config.electionTimeoutMs / config.heartbeatIntervalMs)),
    heartbeatTicks: 1,
    storage: opened.raftStorage,
    applied: opened.snapshotIndex,
    random,
    preVote: true,
    checkQuorum: true,
    maxInflightMessages: 256,
    maxEntriesBytesPerMessage: 1024 * 1024,
    logger: raftLogger(rootLogger.child({ component: 'raft' })),
  });
}
