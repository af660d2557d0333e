import type { ServerWritableStream, UntypedServiceImplementation } from '@grpc/grpc-js';
import { asEmbeddedClientError, ServerElection, stoppableContext, type LeaderKey } from '../concurrency';
import { AUTH_DISABLED, type AuthGate } from '../auth/auth-gate';
import { Errors } from '../errors';
import type { Logger } from '../log';
import type { KeyValue } from '../storage/mvcc/types';
import { headerOnlyResponseToWire, headerToWire, keyValueToWire } from './codec/kv-responses';
import { hasField, int64ToWire, wireBytes, wireInt64, type Wire, type WireOut } from './codec/wire-scalars';
import { errorToServiceError } from './error-status';
import { perCaller } from './authorized-member';
import type { MemberPort, RequestContext, ResponseHeader } from './member-port';
import { DecodeFailure, wireBytesOf, type DecodedRequest } from './method-codec';
import type { OpenStreams } from './open-streams';
import { requestContextFor } from './request-context';
import { unaryHandler } from './unary-handler';
import { validateProposalSize } from './validate-kv';

function leaderKeyFromWire(w: Wire): LeaderKey {
  if (!hasField(w, 'leader')) throw Errors.leaderFieldMissing();
  const leader = w.leader;
  return { name: wireBytes(leader.name), key: wireBytes(leader.key), rev: wireInt64(leader.rev), lease: wireInt64(leader.lease) };
}

function leaderKeyToWire(leader: LeaderKey): WireOut {
  const out: WireOut = {};
  if (leader.name.length > 0) out.name = leader.name;
  if (leader.key.length > 0) out.key = leader.key;
  if (leader.rev !== 0n) out.rev = int64ToWire(leader.rev);
  if (leader.lease !== 0n) out.lease = int64ToWire(leader.lease);
  return out;
}

function leaderResponseToWire(header: ResponseHeader, kv: KeyValue): WireOut {
  return { header: headerToWire(header), kv: keyValueToWire(kv) };
}

/** Rethrows as etcd's embedded client would show it (UNKNOWN with etcd's text). */
async function embedded<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    throw asEmbeddedClientError(err);
  }
}

/** v3electionpb.Election, as etcd serves it: the Go election run against this member. */
export function electionService(
  member: MemberPort,
  logger: Logger,
  openStreams: OpenStreams,
  gate: AuthGate = AUTH_DISABLED,
): UntypedServiceImplementation {
  const shared = new ServerElection(member, logger);
  // With auth on, the election runs as the caller: each of its KV and watch calls is
  // permission-checked (etcd's embedded client carries the caller's token).
  const electionFor = perCaller(shared, (scoped) => new ServerElection(scoped, logger), member, gate);
  const stopRegistry = (end: () => void): (() => void) => openStreams.add(end);
  return {
    Campaign: unaryHandler('Election/Campaign', logger, async (w, requestCtx) => {
      const waiting = stoppableContext(requestCtx, stopRegistry);
      try {
        validateProposalSize(wireBytesOf(w), member.limits.maxRequestBytes);
        const won = await electionFor(requestCtx).campaign(wireBytes(w.name), wireInt64(w.lease), wireBytes(w.value), waiting.ctx);
        return { header: headerToWire(won.header), leader: leaderKeyToWire(won.leader) };
      } catch (err) {
        throw waiting.stopped() ? Errors.serverStopped() : asEmbeddedClientError(err);
      } finally {
        waiting.release();
      }
    }),
    Proclaim: unaryHandler('Election/Proclaim', logger, (w, ctx) =>
      embedded(async () => {
        const leader = leaderKeyFromWire(w);
        validateProposalSize(wireBytesOf(w), member.limits.maxRequestBytes);
        return headerOnlyResponseToWire(await electionFor(ctx).proclaim(leader, wireBytes(w.value), ctx));
      }),
    ),
    Leader: unaryHandler('Election/Leader', logger, (w, ctx) =>
      embedded(async () => {
        const current = await electionFor(ctx).leader(wireBytes(w.name), ctx);
        return leaderResponseToWire(current.header, current.kv);
      }),
    ),
    Resign: unaryHandler('Election/Resign', logger, (w, ctx) =>
      embedded(async () => headerOnlyResponseToWire(await electionFor(ctx).resign(leaderKeyFromWire(w), ctx))),
    ),
    Observe: (call: ServerWritableStream<DecodedRequest, WireOut>) => observeStream(electionFor, logger, stopRegistry, call),
  };
}

/** Bound on waiting for a slow observer to take a response before the stream is ended. */
export const OBSERVE_DRAIN_TIMEOUT_MS = 60_000;

function observeStream(
  electionFor: (ctx: RequestContext) => ServerElection,
  logger: Logger,
  stopRegistry: (end: () => void) => () => void,
  call: ServerWritableStream<DecodedRequest, WireOut>,
): void {
  const request = call.request;
  if (request instanceof DecodeFailure) {
    call.emit('error', errorToServiceError(request.error, logger, 'Election/Observe'));
    return;
  }
  const { ctx: requestCtx } = requestContextFor(call);
  const observing = stoppableContext(requestCtx, stopRegistry);
  const { signal } = observing.ctx;
  const send = async (header: ResponseHeader, kv: KeyValue): Promise<void> => {
    if (call.write(leaderResponseToWire(header, kv))) return;
    await new Promise<void>((resolve, reject) => {
      const done = (err?: Error): void => {
        clearTimeout(timer);
        call.off('drain', onDrain);
        signal.removeEventListener('abort', onAbort);
        if (err === undefined) resolve();
        else reject(err);
      };
      const onDrain = (): void => done();
      const onAbort = (): void => done(new Error('observer went away'));
      const timer = setTimeout(() => done(Errors.tooManyRequests()), OBSERVE_DRAIN_TIMEOUT_MS);
      call.once('drain', onDrain);
      signal.addEventListener('abort', onAbort, { once: true });
    });
  };
  electionFor(requestCtx).observe(wireBytes(request.name), observing.ctx, send).then(
    () => {
      observing.release();
      call.end();
    },
    (err: unknown) => {
      observing.release();
      if (requestCtx.signal.aborted) return; // the client is gone: nobody to answer
      const failure = observing.stopped() ? Errors.serverStopped() : asEmbeddedClientError(err);
      call.emit('error', errorToServiceError(failure, logger, 'Election/Observe'));
    },
  );
}
