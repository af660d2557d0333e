import type { handleUnaryCall, MethodDefinition, Server, ServiceDefinition, UntypedServiceImplementation } from '@grpc/grpc-js';
import * as http2 from 'node:http2';
import { DirectUnaryCall, grpcTimeoutMs, STATUS_ONLY_OPTIONS, statusOnlyHeaders, type DirectUnaryMethod, type UnaryCallStream } from './direct-unary-call';
import type { FramedStream } from './h2/framed-stream';
import { GrpcCode } from '../errors';
import { FramedStreamingCall, type FramedStreamingMethod } from './framed-streaming-call';
import { callKind, type RpcHandledReporter } from '../metrics/grpc-interceptor';
import { unknownMethodStatus } from './unknown-method-status';
import type { DecodedRequest } from './method-codec';
import type { WireOut } from './codec/wire-scalars';

type StreamListener = (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders, ...rest: unknown[]) => void;

/**
 * Sends the unary calls of the given services through DirectUnaryCall, answers gRPC requests
 * for methods no service has as grpc-go (etcd) does, and sends everything else (streams,
 * compressed or malformed requests) to grpc-js as before. grpc-js keeps owning the
 * connections: sessions, keepalive pings, GOAWAY and graceful shutdown.
 */
export class DirectUnaryRouter {
  private readonly methods = new Map<string, DirectUnaryMethod>();
  /** Streaming methods, served only on our own framing (node:http2 streams stay with grpc-js). */
  private readonly streamingMethods = new Map<string, FramedStreamingMethod>();
  /** Every method path of the added services, streaming ones included. */
  private readonly knownPaths = new Set<string>();
  /** The added services' full names ("etcdserverpb.KV"). */
  private readonly serviceNames = new Set<string>();
  /** Calls answered by the direct path since start (tests check the path is taken). */
  directCalls = 0;

  constructor(
    private readonly frameLimitBytes: number,
    /** Counts streaming calls served on our own framing (grpc-js' interceptor counts the rest). */
    private readonly report?: RpcHandledReporter,
  ) {}

  /** Routes the unary methods of one service (the same handlers grpc-js was given). */
  addService(definition: ServiceDefinition, implementation: UntypedServiceImplementation): void {
    for (const [name, method] of Object.entries(definition)) {
      this.knownPaths.add(method.path);
      this.serviceNames.add(method.path.slice(1, method.path.lastIndexOf('/')));
      const handler = implementation[name];
      if (handler === undefined) continue;
      if (method.requestStream || method.responseStream) {
        // Client-streaming methods (none in etcd's API) stay unserved on our framing.
        if (method.responseStream) this.addStreaming(method, handler);
        continue;
      }
      this.methods.set(method.path, {
        definition: method as MethodDefinition<DecodedRequest, WireOut | Buffer>,
        handler: handler as handleUnaryCall<DecodedRequest, WireOut | Buffer>,
      });
    }
  }

  private addStreaming(method: MethodDefinition<unknown, unknown>, handler: unknown): void {
    const report = this.report;
    const [, service = '', name = ''] = /^\/([^/]*)\/(.*)$/.exec(method.path) ?? [];
    const kind = callKind(method.requestStream, method.responseStream);
    this.streamingMethods.set(method.path, {
      definition: method as MethodDefinition<DecodedRequest, WireOut | Buffer>,
      handler: handler as FramedStreamingMethod['handler'],
      ...(report === undefined ? {} : { report: (code: number) => report(service, name, kind, code) }),
    });
  }

  /**
   * Takes over the 'stream' events of the HTTP/2 server behind `server`'s connection
   * injector. grpc-js has no public hook for this, so it reaches into its `http2Servers`
   * map; if grpc-js ever changes shape the calls simply stay with grpc-js (false).
   */
  install(server: Server): boolean {
    const servers = (server as unknown as { http2Servers?: unknown }).http2Servers;
    if (!(servers instanceof Map) || servers.size !== 1) return false;
    const [http2Server] = servers.keys() as IterableIterator<http2.Http2Server>;
    const listeners = http2Server.listeners('stream') as StreamListener[];
    if (listeners.length !== 1) return false;
    const grpcListener = listeners[0]!;
    http2Server.removeListener('stream', grpcListener);
    http2Server.on('stream', (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders, ...rest: unknown[]) => {
      if (!this.serve(stream, headers) && !this.refuseUnknown(stream, headers)) grpcListener.call(http2Server, stream, headers, ...rest);
    });
    return true;
  }

  /**
   * A stream of our own framing (h2/connection.ts): every gRPC call of the added services,
   * unary or streaming, is served here, and everything else answered as grpc-js would.
   */
  serveFramed(stream: FramedStream, headers: http2.IncomingHttpHeaders): void {
    if (this.serve(stream, headers) || this.refuseUnknown(stream, headers)) return;
    if (!isGrpcRequest(headers)) {
      // grpc-js' answer to a request that is not gRPC.
      stream.respond({ ':status': http2.constants.HTTP_STATUS_UNSUPPORTED_MEDIA_TYPE }, STATUS_ONLY_OPTIONS);
      return;
    }
    const path = headers[':path'];
    const method = path === undefined ? undefined : this.streamingMethods.get(path);
    if (method === undefined) {
      answerStatusOnly(stream, GrpcCode.UNIMPLEMENTED, `unknown method for ${String(path)}`);
      return;
    }
    const timeoutMs = grpcTimeoutMs(headers['grpc-timeout']);
    if (Number.isNaN(timeoutMs)) return refuseTimeout(stream, headers);
    new FramedStreamingCall(stream, headers, method, this.frameLimitBytes, timeoutMs);
  }

  /** Serves `stream` when it is a plain unary call of ours; false leaves it to grpc-js. */
  private serve(stream: UnaryCallStream, headers: http2.IncomingHttpHeaders): boolean {
    const path = headers[':path'];
    const method = path === undefined ? undefined : this.methods.get(path);
    if (method === undefined) return false;
    if (!isGrpcRequest(headers)) return false;
    const encoding = headers['grpc-encoding'];
    const timeoutMs = grpcTimeoutMs(headers['grpc-timeout']);
    this.directCalls++;
    if (Number.isNaN(timeoutMs)) refuseTimeout(stream, headers);
    else new DirectUnaryCall(stream, headers, method, this.frameLimitBytes, timeoutMs, typeof encoding === 'string' ? encoding : undefined);
    return true;
  }

  /**
   * Answers a gRPC request for a method none of the services has, in grpc-go's words
   * (unknown-method-status.ts); grpc-js words it otherwise ("The server does not implement
   * the method …"), and etcd3's bundled 3.5 protos can reach such methods.
   */
  private refuseUnknown(stream: UnaryCallStream, headers: http2.IncomingHttpHeaders): boolean {
    const path = headers[':path'];
    if (path === undefined || this.knownPaths.has(path) || !isGrpcRequest(headers)) return false;
    const status = unknownMethodStatus(path, this.serviceNames);
    answerStatusOnly(stream, status.code, status.details);
    return true;
  }
}

/** A call refused before it is read: grpc-js' answer to a grpc-timeout it cannot read. */
function refuseTimeout(stream: UnaryCallStream, headers: http2.IncomingHttpHeaders): void {
  answerStatusOnly(stream, GrpcCode.INTERNAL, `Invalid grpc-timeout value "${String(headers['grpc-timeout'])}"`);
}

/** Ends `stream` with a trailers-only status; whatever the client still sends is read and dropped. */
function answerStatusOnly(stream: UnaryCallStream, code: number, details: string): void {
  try {
    stream.respond(statusOnlyHeaders(code, details), STATUS_ONLY_OPTIONS);
    stream.resume();
  } catch {
    if (!stream.destroyed) stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
  }
}

function isGrpcRequest(headers: http2.IncomingHttpHeaders): boolean {
  const contentType = headers['content-type'];
  return typeof contentType === 'string' && contentType.startsWith('application/grpc');
}
