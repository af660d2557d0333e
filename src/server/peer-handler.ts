import { Errors } from '../errors';
import type { Message, NodeId } from '../consensus';
import type { MemberInfo } from '../api/member-port';
import type { PeerHandler } from '../transport/types';
import type { PeerRemovalHooks, TimeToLiveAnswer, TimeToLiveQuery } from '../transport';
import type { Member } from './member';

/** Peer traffic, handed from the transport to the member. */
export class MemberPeerHandler implements PeerHandler, PeerRemovalHooks {
  constructor(private readonly member: Member) {}

  onRaftMessage(message: Message): void {
    this.member.receive(message);
  }

  onSnapshot(message: Message, file: string): Promise<void> {
    return this.member.receiveSnapshot(message, file);
  }

  onUnreachable(peer: NodeId): void {
    this.member.reportUnreachable(peer);
  }

  onPeerRefused(peer: NodeId): void {
    this.member.reportPeerRefused(peer);
  }

  onSnapshotStatus(peer: NodeId, ok: boolean): void {
    this.member.reportSnapshot(peer, ok);
  }

  /** Only the leader renews leases; a follower that forwarded here to a stale leader retries. */
  async leaseKeepAlive(leaseId: bigint): Promise<bigint> {
    if (!this.member.isLeader()) throw Errors.notLeader();
    return this.member.renewOnLeader(leaseId);
  }

  /** Only the leader knows when a lease expires; a follower asked here by mistake refuses. */
  leaseTimeToLive(query: TimeToLiveQuery): TimeToLiveAnswer {
    if (!this.member.isLeader()) throw Errors.notLeader();
    return this.member.timeToLiveHere(query);
  }

  isMemberRemoved(peer: NodeId): boolean {
    return this.member.membership.wasRemoved(peer);
  }

  /** A peer refused us as a removed member: stop, as etcd does. */
  onRemovedFromCluster(): void {
    this.member.stopBecauseRemoved();
  }

  clusterInfo(): { clusterId: bigint; members: MemberInfo[] } {
    return { clusterId: this.member.membership.clusterId, members: this.member.membership.list() };
  }
}
