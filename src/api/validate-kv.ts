import { Errors } from '../errors';
import { MAX_LEASE_TTL_SECONDS } from '../lease/lessor';

/**
 * Request checks etcd makes in its gRPC layer (etcdserver/api/v3rpc/key.go) before
 * anything is proposed. The KV shape checks are the store's own (it re-checks at apply);
 * what depends on state (lease existence, ignore_* on a missing key, revisions) is only
 * known at apply.
 */

export { validateDeleteRange, validatePut, validateRange, validateTxn } from '../storage/mvcc';

export { MAX_LEASE_TTL_SECONDS };

export function validateLeaseGrant(ttlSeconds: bigint): void {
  if (ttlSeconds > MAX_LEASE_TTL_SECONDS) throw Errors.leaseTtlTooLarge();
}

/**
 * Bytes an InternalRequest adds around a client request: the request's field tag (1) and
 * length (up to 3 for anything near the limit), plus the header {ID} (tag 2, length 1,
 * ID tag 1 + up to 10 varint bytes).
 */
const PROPOSAL_OVERHEAD_BYTES = 1 + 3 + 2 + 1 + 1 + 10;

/**
 * etcd refuses a proposal whose encoded InternalRaftRequest exceeds max-request-bytes.
 * The API knows the client request's wire size, so it applies the same bound before
 * proposing (the member may check the exact encoding again).
 */
export function validateProposalSize(requestWireBytes: number, maxRequestBytes: number): void {
  if (requestWireBytes + PROPOSAL_OVERHEAD_BYTES > maxRequestBytes) throw Errors.requestTooLarge();
}
