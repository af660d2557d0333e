import type { ServerDuplexStream, UntypedServiceImplementation } from '@grpc/grpc-js';
import { AUTH_DISABLED, type AuthGate } from '../auth/auth-gate';
import { Errors } from '../errors';
import type { Logger } from '../log';
import type { WatchResponse, WatchStream } from '../storage/mvcc/watch/types';
import { credentialsOf, watchRefusal } from './auth-policy';
import { encodeWatchResponse, watchRequestFromWire } from './codec/watch-wire';
import { errorToServiceError } from './error-status';
import type { MemberPort } from './member-port';
import { DecodeFailure, type DecodedRequest } from './method-codec';
import type { OpenStreams } from './open-streams';

export interface WatchServiceOptions {
  /** A response at least this large is split for watchers with fragment=true (etcd: 2 MiB). */
  fragmentThresholdBytes: number;
  /**
   * Bound on bytes queued for one slow client; beyond it the stream is ended with
   * RESOURCE_EXHAUSTED rather than letting memory grow without limit.
   */
  maxBufferedBytes: number;
  /** Streams to end (UNAVAILABLE "server stopped") when the server shuts down. */
  openStreams: OpenStreams;
  /** Who may watch what (READ on the watched range); auth off when absent. */
  authGate?: AuthGate;
  /** Watchers one stream may hold open; MAX_WATCHERS_PER_STREAM when absent. */
  maxWatchersPerStream?: number;
}

/**
 * Watchers one gRPC watch stream may have open at once. A create beyond it is refused the
 * way etcd refuses a create (created + canceled, watch_id -1, a cancel_reason) and the
 * stream and its other watchers go on unchanged.
 */
export const MAX_WATCHERS_PER_STREAM = 10_000;

/** The cancel_reason of a create refused by MAX_WATCHERS_PER_STREAM. */
export function tooManyWatchersReason(limit: number): string {
  return `latchkey: too many watchers on this watch stream (limit ${limit}); cancel some or open another stream`;
}

/**
 * etcdserverpb.Watch: one member WatchStream per gRPC stream. Create/cancel/progress go
 * to it in arrival order; its responses are encoded (and fragmented) here. A client
 * half-close keeps the stream open, as in etcd; a cancel or an error closes the WatchStream.
 */
export function watchService(member: MemberPort, logger: Logger, options: WatchServiceOptions): UntypedServiceImplementation {
  const gate = options.authGate ?? AUTH_DISABLED;
  const maxWatchers = options.maxWatchersPerStream ?? MAX_WATCHERS_PER_STREAM;
  if (!(maxWatchers > 0)) throw new Error(`maxWatchersPerStream must be positive, got ${maxWatchers}`);
  return {
    Watch: (call: ServerDuplexStream<DecodedRequest, Buffer>) => {
      let closed = false;
      let watchStream: WatchStream | undefined;
      let unregister = (): void => {};
      const close = (): void => {
        if (closed) return;
        closed = true;
        unregister();
        watchStream?.close();
      };
      const fail = (err: unknown): void => {
        if (closed) return;
        close();
        call.emit('error', errorToServiceError(err, logger, 'Watch/Watch'));
      };
      // Bytes handed to grpc-js but not yet taken by HTTP/2 (the stream is in object mode,
      // so writableLength would count messages, not bytes).
      let bufferedBytes = 0;
      const written = (size: number) => (): void => {
        bufferedBytes -= size;
      };
      // Ids created and not canceled since: what MAX_WATCHERS_PER_STREAM counts.
      const openIds = new Set<bigint>();
      // A refusal waiting for the progress response that carries the current revision.
      let refusalReason: string | undefined;
      const send = (original: WatchResponse): void => {
        if (closed) return;
        let response = original;
        if (refusalReason !== undefined && isProgressResponse(response)) {
          response = { ...response, created: true, canceled: true, cancelReason: refusalReason };
          refusalReason = undefined;
        } else if (response.canceled) openIds.delete(response.watchId);
        else if (response.created) openIds.add(response.watchId);
        const header = member.watch.headerFor(response.headerRevision);
        for (const bytes of encodeWatchResponse(header, response, options.fragmentThresholdBytes)) {
          bufferedBytes += bytes.length;
          call.write(bytes, written(bytes.length));
        }
        if (bufferedBytes > options.maxBufferedBytes) {
          logger.warn({ bufferedBytes }, 'watch client too slow; ending its stream');
          fail(Errors.tooManyRequests());
        }
      };
      const stream = member.watch.openStream(send);
      /**
       * Answers a create the way etcd answers a failed one: created + canceled, watch_id -1,
       * with the stream's current revision in the header (taken from a progress response,
       * which carries it, rewritten into the refusal).
       */
      const refuseCreate = (reason: string): void => {
        refusalReason = reason;
        stream.requestProgress();
        if (refusalReason === undefined) return;
        refusalReason = undefined;
        send({ headerRevision: 0n, watchId: -1n, created: true, canceled: true, compactRevision: 0n, cancelReason: reason, fragment: false, events: [] });
      };
      const credentials = credentialsOf(call);
      watchStream = stream;
      if (closed) stream.close();
      else unregister = options.openStreams.add(() => fail(Errors.serverStopped()));
      call.on('data', (request: DecodedRequest) => {
        if (closed) return;
        if (request instanceof DecodeFailure) {
          fail(request.error);
          return;
        }
        try {
          const model = watchRequestFromWire(request);
          switch (model.kind) {
            case 'create': {
              // READ on the watched range, checked at each create (a token may have expired).
              const refusal = watchRefusal(gate, credentials, model.create.key, model.create.rangeEnd);
              if (refusal !== undefined) {
                refuseCreate(refusal);
              } else if (openIds.size >= maxWatchers) {
                logger.warn({ maxWatchers }, 'watch stream is at its watcher limit');
                refuseCreate(tooManyWatchersReason(maxWatchers));
              } else {
                stream.create(model.create);
              }
              break;
            }
            case 'cancel': stream.cancel(model.watchId); break;
            case 'progress': stream.requestProgress(); break;
            case 'none': break;
          }
        } catch (err) {
          fail(err);
        }
      });
      call.on('cancelled', close);
      call.on('error', close);
      call.on('close', close);
    },
  };
}

/** A progress response: watch_id -1, nothing else set (what requestProgress() produces). */
function isProgressResponse(r: WatchResponse): boolean {
  return r.watchId === -1n && !r.created && !r.canceled && r.events.length === 0 && r.compactRevision === 0n;
}
