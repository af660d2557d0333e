/** The client-facing gRPC API: what the composition root and the member import. */
export { ClientServer, GRACEFUL_CLOSE_MS } from './client-server';
export { createGrpcServices, GRPC_OVERHEAD_BYTES, maxReceiveBytes, type GrpcService, type GrpcServicesOptions } from './grpc-services';
export {
  decodeInternalRequest,
  encodeInternalRequest,
  type InternalRequest,
  type InternalRequestBody,
  type InternalRequestKind,
  type LeaseCheckpoint,
} from './codec/internal-request';
export { validateTxn, validatePut, validateRange, validateDeleteRange, validateLeaseGrant, MAX_LEASE_TTL_SECONDS } from './validate-kv';
