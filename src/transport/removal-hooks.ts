import type { NodeId } from '../consensus';

/**
 * Optional PeerHandler members for removed members (not in the PeerTransport contract yet,
 * so a handler may leave them out). A member that was removed may never apply its own
 * removal: the leader stops replicating to it. etcd's answer, copied here: peers refuse a
 * removed member's stream with MEMBER_REMOVED_DETAILS, and the removed member stops.
 */
export interface PeerRemovalHooks {
  /** True for ids removed from this cluster: their streams are refused. */
  isMemberRemoved(peer: NodeId): boolean;
  /** A peer refused this member as removed; called at most once. */
  onRemovedFromCluster(): void;
}
