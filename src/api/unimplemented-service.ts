import type { ServiceDefinition, UntypedHandleCall, UntypedServiceImplementation } from '@grpc/grpc-js';
import { EtcdError, GrpcCode } from '../errors';
import type { Logger } from '../log';
import { errorToServiceError } from './error-status';

/** grpc-go's answer for a method the server does not know, which etcd clients see. */
export function unknownMethod(method: string, fullServiceName: string): EtcdError {
  return new EtcdError(GrpcCode.UNIMPLEMENTED, `unknown method ${method} for service ${fullServiceName}`);
}

/**
 * Handlers answering every method of `definition` (or only `methods`) with UNIMPLEMENTED
 * in etcd's words, whatever the streaming kind.
 */
export function unimplementedHandlers(
  fullServiceName: string,
  definition: ServiceDefinition,
  logger: Logger,
  methods: string[] = Object.keys(definition),
): UntypedServiceImplementation {
  const handlers: UntypedServiceImplementation = {};
  for (const name of methods) {
    const method = definition[name];
    if (method === undefined) throw new Error(`${fullServiceName} has no method ${name}`);
    const error = (): Error => errorToServiceError(unknownMethod(name, fullServiceName), logger, `${fullServiceName}/${name}`) as Error;
    const handler = method.responseStream || method.requestStream
      ? (call: { emit(event: 'error', err: Error): boolean }) => {
          call.emit('error', error());
        }
      : (_call: unknown, callback: (err: Error) => void) => {
          callback(error());
        };
    handlers[name] = handler as UntypedHandleCall;
  }
  return handlers;
}
