import type { UntypedServiceImplementation } from '@grpc/grpc-js';
import { asEmbeddedClientError, ServerMutex, stoppableContext } from '../concurrency';
import { Errors } from '../errors';
import type { Logger } from '../log';
import { LockTimings } from '../metrics/lock-timings';
import type { MemberMetrics } from '../metrics/member-metrics';
import { AUTH_DISABLED, type AuthGate } from '../auth/auth-gate';
import { perCaller } from './authorized-member';
import { headerOnlyResponseToWire, headerToWire } from './codec/kv-responses';
import { wireBytes, wireInt64 } from './codec/wire-scalars';
import type { MemberPort } from './member-port';
import { wireBytesOf } from './method-codec';
import type { OpenStreams } from './open-streams';
import { unaryHandler } from './unary-handler';
import { validateDeleteRange, validateProposalSize } from './validate-kv';

/**
 * v3lockpb.Lock, as etcd serves it: the Go mutex run against this member. Errors of the
 * inner KV/Lease calls come back as UNKNOWN with etcd's text, as etcd's embedded client
 * returns them.
 */
export function lockService(
  member: MemberPort,
  logger: Logger,
  openStreams: OpenStreams,
  metrics: MemberMetrics,
  gate: AuthGate = AUTH_DISABLED,
): UntypedServiceImplementation {
  const shared = new ServerMutex(member, logger);
  // With auth on, the mutex runs as the caller: each of its KV calls is permission-checked
  // (etcd's embedded client carries the caller's token). Auth off: the shared mutex.
  const mutexFor = perCaller(shared, (scoped) => new ServerMutex(scoped, logger), member, gate);
  const timings = new LockTimings(metrics);
  return {
    Lock: unaryHandler('Lock/Lock', logger, async (w, requestCtx) => {
      const waiting = stoppableContext(requestCtx, (end) => openStreams.add(end));
      const wait = timings.startWaiting();
      try {
        validateProposalSize(wireBytesOf(w), member.limits.maxRequestBytes);
        const held = await mutexFor(requestCtx).lock(wireBytes(w.name), wireInt64(w.lease), waiting.ctx);
        wait.stop();
        timings.acquired(held.key, wait.startedAt);
        return { header: headerToWire(held.header), key: held.key };
      } catch (err) {
        throw waiting.stopped() ? Errors.serverStopped() : asEmbeddedClientError(err);
      } finally {
        wait.stop();
        waiting.release();
      }
    }),
    Unlock: unaryHandler('Lock/Unlock', logger, async (w, ctx) => {
      try {
        const key = wireBytes(w.key);
        validateDeleteRange({ key, rangeEnd: Buffer.alloc(0), prevKv: false });
        const answer = headerOnlyResponseToWire(await mutexFor(ctx).unlock(key, ctx));
        timings.released(key);
        return answer;
      } catch (err) {
        throw asEmbeddedClientError(err);
      }
    }),
  };
}
