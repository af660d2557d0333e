import type { ServiceDefinition, UntypedServiceImplementation } from '@grpc/grpc-js';
import { EtcdError, GrpcCode } from '../errors';
import type { Logger } from '../log';
import { unaryHandler } from './unary-handler';
import { unimplementedHandlers } from './unimplemented-service';

/** etcd's ErrGRPCAuthNotEnabled (not yet in src/errors.ts). */
export function authNotEnabled(): EtcdError {
  return new EtcdError(GrpcCode.FAILED_PRECONDITION, 'etcdserver: authentication is not enabled');
}

/**
 * etcdserverpb.Auth while latchkey has no auth: Authenticate says auth is not enabled (as
 * etcd does while auth is off), every other method is UNIMPLEMENTED.
 */
export function authService(definition: ServiceDefinition, logger: Logger): UntypedServiceImplementation {
  const others = Object.keys(definition).filter((name) => name !== 'Authenticate');
  return {
    ...unimplementedHandlers('etcdserverpb.Auth', definition, logger, others),
    Authenticate: unaryHandler('Auth/Authenticate', logger, () => Promise.reject(authNotEnabled())),
  };
}
