import { Metadata, status as GrpcStatus } from '@grpc/grpc-js';
import type { NodeId } from '../consensus';

/**
 * Who a peer call is from and for. Every call carries these so a receiver can refuse a
 * member of another cluster (or a stale member at a recycled address) before it reads
 * a single message.
 */
const CLUSTER_ID = 'latchkey-cluster-id';
const FROM = 'latchkey-from';
const TO = 'latchkey-to';

/**
 * The status details a member sends to a peer it knows was removed from the cluster (etcd's
 * rafthttp text): a removed member may never learn of its removal through Raft, since the
 * leader stops replicating to it, so it learns it from this refusal and stops.
 */
export const MEMBER_REMOVED_DETAILS = 'latchkey: the member has been permanently removed from the cluster';

export interface CallIdentity {
  clusterId: bigint;
  from: NodeId;
  /** 0 when the caller does not know the receiver's id (ClusterInfo from a joiner). */
  to: NodeId;
}

export function identityMetadata(identity: CallIdentity): Metadata {
  const metadata = new Metadata();
  metadata.set(CLUSTER_ID, identity.clusterId.toString());
  metadata.set(FROM, identity.from.toString());
  metadata.set(TO, identity.to.toString());
  return metadata;
}

export interface CallRefusal {
  code: GrpcStatus;
  details: string;
}

function uint64Value(metadata: Metadata, key: string): bigint | undefined {
  const values = metadata.get(key);
  if (values.length !== 1 || typeof values[0] !== 'string' || !/^[0-9]{1,20}$/.test(values[0])) return undefined;
  const value = BigInt(values[0]);
  return value <= 0xffffffffffffffffn ? value : undefined;
}

/** The caller's identity, or why its call is refused. */
export function checkIdentity(metadata: Metadata, local: { id: NodeId; clusterId: bigint }): CallIdentity | CallRefusal {
  const clusterId = uint64Value(metadata, CLUSTER_ID);
  const from = uint64Value(metadata, FROM);
  const to = uint64Value(metadata, TO);
  if (clusterId === undefined || from === undefined || to === undefined) {
    return { code: GrpcStatus.INVALID_ARGUMENT, details: 'latchkey: peer call without cluster id, sender and receiver ids' };
  }
  if (clusterId !== local.clusterId) {
    return {
      code: GrpcStatus.FAILED_PRECONDITION,
      details: `latchkey: cluster id mismatch (local ${local.clusterId.toString(16)}, remote ${clusterId.toString(16)})`,
    };
  }
  if (to !== local.id) {
    return { code: GrpcStatus.FAILED_PRECONDITION, details: `latchkey: member id mismatch (local ${local.id.toString(16)}, wanted ${to.toString(16)})` };
  }
  return { clusterId, from, to };
}

export function isRefusal(value: CallIdentity | CallRefusal): value is CallRefusal {
  return 'code' in value;
}
