import type { Message, NodeId } from '../consensus';
import type { MemberInfo } from '../api/member-port';
import type { TimeToLiveAnswer, TimeToLiveQuery } from './codec/lease-time-to-live-codec';

/**
 * What the peer transport hands to the member. The transport decodes peer traffic and calls
 * these; it never touches Raft or storage itself.
 */
export interface PeerHandler {
  /** A Raft message from a peer, in the order that peer sent it. */
  onRaftMessage(message: Message): void;
  /**
   * A snapshot arrived through the pipeline: `message` is the MsgSnap (its snapshot.data
   * is the small payload), `file` the state machine image written to a temp file, which
   * the handler takes over (moves or deletes). Resolves once the member has taken it.
   */
  onSnapshot(message: Message, file: string): Promise<void>;
  /** The transport could not deliver to a peer (stream down): Raft should probe it. */
  onUnreachable(peer: NodeId): void;
  /**
   * Nothing listens at the peer's address any more (connection refused): its process is
   * gone, not merely slow or cut off. Optional: only a hint for how long to wait for it.
   */
  onPeerRefused?(peer: NodeId): void;
  /** A snapshot send finished (ok) or failed: Raft's reportSnapshot. */
  onSnapshotStatus(peer: NodeId, ok: boolean): void;
  /** A follower forwards a lease keepalive to the leader: the granted TTL, 0 if unknown. */
  leaseKeepAlive(leaseId: bigint): Promise<bigint>;
  /** A follower forwards a TimeToLive to the leader; throws (not leader) on any other member. */
  leaseTimeToLive(query: TimeToLiveQuery): TimeToLiveAnswer;
  /** A member starting with --initial-cluster-state existing asks an existing one who is in the cluster. */
  clusterInfo(): { clusterId: bigint; members: MemberInfo[] };
}

export interface PeerAddress {
  id: NodeId;
  peerUrls: string[];
}

export interface PeerTransport {
  /** Listens on --listen-peer-urls. */
  start(listenUrls: string[]): Promise<void>;
  /** The current set of remote peers (self excluded); adds and drops streams to match. */
  setPeers(peers: PeerAddress[]): void;
  /** Queues messages for their peers; never blocks; a full queue drops and reports unreachable. */
  send(messages: Message[]): void;
  /** Streams `file` to message.to, then reports the status through onSnapshotStatus. */
  sendSnapshot(message: Message, file: string): void;
  /** Since when the link to `peer` has been up (ms since the epoch); undefined while it is down. */
  activeSince?(peer: NodeId): number | undefined;
  /** Asks the leader to renew a lease (KeepAlive on a follower). */
  forwardLeaseKeepAlive(leader: NodeId, leaseId: bigint, signal: AbortSignal): Promise<bigint>;
  /** Asks the leader for a lease's remaining TTL (TimeToLive on a follower). */
  forwardLeaseTimeToLive(leader: NodeId, query: TimeToLiveQuery, signal: AbortSignal): Promise<TimeToLiveAnswer>;
  /** Asks any of `peerUrls` for the cluster id and members (joining an existing cluster). */
  fetchClusterInfo(peerUrls: string[], signal: AbortSignal): Promise<{ clusterId: bigint; members: MemberInfo[] }>;
  close(): Promise<void>;
}
