import { Metadata, type ServiceError, type StatusObject } from '@grpc/grpc-js';
import { EtcdError, GrpcCode } from '../errors';
import type { Logger } from '../log';

/**
 * The one place where a failure becomes a gRPC status. An EtcdError carries etcd's code
 * and text (clients match on them); anything else is a bug or an unexpected fault of ours:
 * logged at error level and returned as UNKNOWN with its message.
 */
export function errorToStatus(err: unknown, logger: Logger, method: string): StatusObject {
  if (err instanceof EtcdError) {
    logger.debug({ method, code: err.code, err: err.message }, 'request failed');
    return { code: err.code, details: err.message, metadata: new Metadata() };
  }
  const message = err instanceof Error ? err.message : String(err);
  logger.error({ method, err }, 'request failed with an unexpected error');
  return { code: GrpcCode.UNKNOWN, details: message, metadata: new Metadata() };
}

/** The same status, shaped as the error object grpc-js callbacks and streams accept. */
export function errorToServiceError(err: unknown, logger: Logger, method: string): Partial<ServiceError> {
  const status = errorToStatus(err, logger, method);
  const serviceError = new Error(status.details) as Partial<ServiceError> & Error;
  serviceError.code = status.code;
  serviceError.details = status.details;
  serviceError.metadata = status.metadata;
  return serviceError;
}
