import type { handleUnaryCall } from '@grpc/grpc-js';
import type { Logger } from '../log';
import type { Wire, WireOut } from './codec/wire-scalars';
import { errorToServiceError } from './error-status';
import type { RequestContext } from './member-port';
import { DecodeFailure, type DecodedRequest } from './method-codec';
import { requestContextFor } from './request-context';

/** Decode, validate and call the member for one unary request; throw EtcdError to fail it. */
export type UnaryRun = (request: Wire, ctx: RequestContext) => Promise<WireOut>;

/** A grpc-js unary handler around `run`; every failure goes through errorToServiceError. */
export function unaryHandler(method: string, logger: Logger, run: UnaryRun): handleUnaryCall<DecodedRequest, WireOut> {
  return (call, callback) => {
    const request = call.request;
    if (request instanceof DecodeFailure) {
      callback(errorToServiceError(request.error, logger, method) as Error);
      return;
    }
    const { ctx, finish } = requestContextFor(call);
    let pending: Promise<WireOut>;
    try {
      pending = run(request, ctx);
    } catch (err) {
      finish();
      callback(errorToServiceError(err, logger, method) as Error);
      return;
    }
    pending.then(
      (response) => {
        finish();
        callback(null, response);
      },
      (err: unknown) => {
        finish();
        callback(errorToServiceError(err, logger, method) as Error);
      },
    );
  };
}
