import type { ServerWritableStream, UntypedServiceImplementation } from '@grpc/grpc-js';
import { EtcdError, GrpcCode } from '../errors';
import type { Logger } from '../log';
import { wireString, type WireOut } from './codec/wire-scalars';
import { errorToServiceError } from './error-status';
import { DecodeFailure, type DecodedRequest } from './method-codec';
import type { OpenStreams } from './open-streams';
import { unaryHandler } from './unary-handler';

const SERVING = 1;

function unknownService(): EtcdError {
  return new EtcdError(GrpcCode.NOT_FOUND, 'unknown service');
}

/** grpc.health.v1.Health as etcd registers it: only the overall service "" is known. */
export function healthService(logger: Logger, openStreams: OpenStreams): UntypedServiceImplementation {
  return {
    Check: unaryHandler('Health/Check', logger, async (w) => {
      if (wireString(w.service) !== '') throw unknownService();
      return { status: SERVING };
    }),
    // Reports SERVING once and stays open until the client goes away.
    Watch: (call: ServerWritableStream<DecodedRequest, WireOut>) => {
      const request = call.request;
      if (request instanceof DecodeFailure) {
        call.emit('error', errorToServiceError(request.error, logger, 'Health/Watch'));
        return;
      }
      call.write({ status: wireString(request.service) === '' ? SERVING : 3 });
      const unregister = openStreams.add(() => call.end());
      call.on('cancelled', unregister);
    },
  };
}
