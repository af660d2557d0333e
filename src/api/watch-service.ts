import type { ServerDuplexStream, UntypedServiceImplementation } from '@grpc/grpc-js';
import { Errors } from '../errors';
import type { Logger } from '../log';
import type { WatchResponse, WatchStream } from '../storage/mvcc/watch/types';
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
}

/**
 * etcdserverpb.Watch: one member WatchStream per gRPC stream. Create/cancel/progress go
 * to it in arrival order; its responses are encoded (and fragmented) here. A client
 * half-close keeps the stream open, as in etcd; a cancel or an error closes the WatchStream.
 */
export function watchService(member: MemberPort, logger: Logger, options: WatchServiceOptions): UntypedServiceImplementation {
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
      const send = (response: WatchResponse): void => {
        if (closed) return;
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
            case 'create': stream.create(model.create); break;
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
