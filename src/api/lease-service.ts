import type { ServerDuplexStream, UntypedServiceImplementation } from '@grpc/grpc-js';
import { Errors } from '../errors';
import type { Logger } from '../log';
import {
  leaseGrantResponseToWire,
  leaseKeepAliveResponseToWire,
  leaseLeasesResponseToWire,
  leaseTimeToLiveResponseToWire,
} from './codec/lease-wire';
import { headerOnlyResponseToWire } from './codec/kv-responses';
import { wireBool, wireInt64, type WireOut } from './codec/wire-scalars';
import { errorToServiceError } from './error-status';
import type { MemberPort } from './member-port';
import { DecodeFailure, type DecodedRequest } from './method-codec';
import type { OpenStreams } from './open-streams';
import { requestContextFor } from './request-context';
import { unaryHandler } from './unary-handler';
import { validateLeaseGrant } from './validate-kv';

/** Keepalive requests one stream may have in flight before it is refused. */
export const MAX_PENDING_KEEPALIVES = 1024;

export function leaseService(member: MemberPort, logger: Logger, openStreams: OpenStreams): UntypedServiceImplementation {
  return {
    LeaseGrant: unaryHandler('Lease/LeaseGrant', logger, async (w, ctx) => {
      const ttlSeconds = wireInt64(w.TTL);
      validateLeaseGrant(ttlSeconds);
      const answer = await member.lease.grant(ttlSeconds, wireInt64(w.ID), ctx);
      return leaseGrantResponseToWire(answer.header, answer.result);
    }),
    LeaseRevoke: unaryHandler('Lease/LeaseRevoke', logger, async (w, ctx) => {
      const answer = await member.lease.revoke(wireInt64(w.ID), ctx);
      return headerOnlyResponseToWire(answer.header);
    }),
    LeaseTimeToLive: unaryHandler('Lease/LeaseTimeToLive', logger, async (w, ctx) => {
      const answer = await member.lease.timeToLive(wireInt64(w.ID), wireBool(w.keys), ctx);
      return leaseTimeToLiveResponseToWire(answer.header, answer.result);
    }),
    LeaseLeases: unaryHandler('Lease/LeaseLeases', logger, async (_w, ctx) => {
      const answer = await member.lease.leases(ctx);
      return leaseLeasesResponseToWire(answer.header, answer.result);
    }),
    LeaseKeepAlive: (call: ServerDuplexStream<DecodedRequest, WireOut>) => keepAliveStream(member, logger, openStreams, call),
  };
}

/**
 * One response per request, in request order (answers are chained). A client half-close
 * ends the stream with OK once every pending request is answered, as etcd does on EOF.
 */
function keepAliveStream(
  member: MemberPort,
  logger: Logger,
  openStreams: OpenStreams,
  call: ServerDuplexStream<DecodedRequest, WireOut>,
): void {
  const { ctx } = requestContextFor(call);
  let closed = false;
  let pending = 0;
  let chain: Promise<void> = Promise.resolve();
  const fail = (err: unknown): void => {
    if (closed) return;
    closed = true;
    unregister();
    call.emit('error', errorToServiceError(err, logger, 'Lease/LeaseKeepAlive'));
  };
  const unregister = openStreams.add(() => fail(Errors.serverStopped()));
  call.on('data', (request: DecodedRequest) => {
    if (closed) return;
    if (request instanceof DecodeFailure) return fail(request.error);
    if (pending >= MAX_PENDING_KEEPALIVES) return fail(Errors.tooManyRequests());
    pending++;
    const id = wireInt64(request.ID);
    chain = chain
      .then(async () => {
        if (closed) return;
        const answer = await member.lease.keepAlive(id, ctx);
        if (!closed) call.write(leaseKeepAliveResponseToWire(answer.header, answer.result));
      })
      .catch(fail)
      .finally(() => {
        pending--;
      });
  });
  call.on('end', () => {
    void chain.then(() => {
      if (closed) return;
      closed = true;
      unregister();
      call.end();
    });
  });
  call.on('cancelled', () => {
    closed = true;
    unregister();
  });
}
