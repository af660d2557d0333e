import { Metadata, type handleUnaryCall, type MethodDefinition, type ServerUnaryCall } from '@grpc/grpc-js';
import { EventEmitter } from 'node:events';
import * as http2 from 'node:http2';
import type * as net from 'node:net';
import * as tls from 'node:tls';
import * as zlib from 'node:zlib';
import { GrpcCode } from '../errors';
import { GrpcMessageSplitter } from './grpc-message-splitter';
import { HeaderMetadata } from './header-metadata';
import { constantHeaders } from './h2/hpack-encoder';
import type { DecodedRequest } from './method-codec';
import type { WireOut } from './codec/wire-scalars';

/** A unary method served by DirectUnaryCall: its codec and its (auth-checked, counted) handler. */
export interface DirectUnaryMethod {
  definition: MethodDefinition<DecodedRequest, WireOut | Buffer>;
  handler: handleUnaryCall<DecodedRequest, WireOut | Buffer>;
}

/**
 * The part of an HTTP/2 server stream a unary call uses: node:http2's ServerHttp2Stream has
 * it, and so does our own framing's FramedStream (h2/framed-stream.ts).
 */
export interface UnaryCallStream {
  readonly destroyed: boolean;
  readonly closed: boolean;
  readonly session?: { readonly socket: net.Socket | tls.TLSSocket } | undefined;
  once(event: 'error' | 'close' | 'end' | 'wantTrailers', listener: () => void): unknown;
  on(event: 'data', listener: (chunk: Buffer) => void): unknown;
  respond(headers: http2.OutgoingHttpHeaders, options: { endStream?: boolean; waitForTrailers?: boolean; sendDate?: boolean }): void;
  end(data: Buffer): unknown;
  sendTrailers(headers: http2.OutgoingHttpHeaders): void;
  close(code?: number): void;
  resume(): unknown;
}

export interface CallStatus {
  code: number;
  details: string;
  metadata: Metadata | null;
}

/**
 * The answer headers real etcd (grpc-go) sends: only the content type, no date, no encoding
 * advertisement. grpc-js adds grpc-accept-encoding, grpc-encoding and date; every extra value
 * is one more string a client's HTTP/2 layer builds and its gRPC layer parses per call.
 */
export const RESPONSE_HEADERS = constantHeaders({ ':status': 200, 'content-type': 'application/grpc' } as const);
const RESPONSE_OPTIONS = { waitForTrailers: true, sendDate: false } as const;
/** grpc-go's trailers of a successful call: status 0 and an empty message. */
const OK_TRAILERS = constantHeaders({ 'grpc-status': '0', 'grpc-message': '' } as const);
/** Options of a trailers-only answer (statusOnlyHeaders): it ends the stream, without a date. */
export const STATUS_ONLY_OPTIONS = { endStream: true, sendDate: false } as const;
const TIMEOUT_PATTERN = /(\d{1,8})\s*([HMSmun])/;
const TIMEOUT_UNIT_MS: Record<string, number> = { H: 3_600_000, M: 60_000, S: 1000, m: 1, u: 0.001, n: 0.000001 };
const FRAME_HEADER_BYTES = 5;

/** The timeout a grpc-timeout header asks for in ms; undefined when absent, NaN when unreadable. */
export function grpcTimeoutMs(header: string | string[] | undefined): number | undefined {
  if (header === undefined) return undefined;
  const match = TIMEOUT_PATTERN.exec(String(header));
  if (match === null) return Number.NaN;
  return (Number(match[1]) * TIMEOUT_UNIT_MS[match[2]!]!) | 0;
}

/**
 * One unary gRPC call answered straight off its HTTP/2 stream: the request's frames are
 * collected until the client half-closes, decoded with the method's codec and handed to the
 * method's handler. Its answer carries grpc-js' framing, status codes and texts (the request
 * checks, deadline and error mapping are grpc-js'), in the headers and trailers real etcd
 * (grpc-go) sends. It is the call object the handler sees, with the parts of grpc-js'
 * ServerUnaryCall that handlers use: request, metadata, cancelled, the 'cancelled' event,
 * getPeer, getDeadline, getPath, getHost and getAuthContext.
 *
 * Why: grpc-js runs each call through a chain of intercepting-call layers, a stream decoder
 * and several queue and listener hops; for the small unary requests etcd clients send, that
 * machinery cost more server CPU per call than the request's own work (benchmarks/grpc-overhead.ts).
 */
export class DirectUnaryCall extends EventEmitter {
  cancelled = false;
  request: DecodedRequest | undefined;
  /** Cuts the request into messages, checking each declared length as its header arrives. */
  private readonly splitter: GrpcMessageSplitter;
  /** The request's one message (with its 5-byte header), once complete. */
  private first: Buffer | undefined;
  private answered = false;
  private deadlineMs = Infinity;
  private deadlineTimer: NodeJS.Timeout | undefined;
  private requestMetadata: Metadata | undefined;

  constructor(
    private readonly stream: UnaryCallStream,
    private readonly headers: http2.IncomingHttpHeaders,
    private readonly method: DirectUnaryMethod,
    private readonly frameLimitBytes: number,
    timeoutMs: number | undefined,
    private readonly encoding: string | undefined = undefined,
  ) {
    super();
    this.splitter = new GrpcMessageSplitter(frameLimitBytes, (framed) => this.message(framed), (declared) => this.refuseLength(declared));
    // A stream error is followed by 'close', which is where it is handled.
    stream.once('error', ignore);
    stream.once('close', () => this.closed());
    stream.on('data', (chunk: Buffer) => this.receive(chunk));
    stream.once('end', () => this.run());
    if (timeoutMs !== undefined) {
      this.deadlineMs = Date.now() + timeoutMs;
      this.deadlineTimer = setTimeout(() => this.finish({ code: GrpcCode.DEADLINE_EXCEEDED, details: 'Deadline exceeded', metadata: null }), timeoutMs);
    }
  }

  get metadata(): Metadata {
    this.requestMetadata ??= new HeaderMetadata(this.headers);
    return this.requestMetadata;
  }

  getPeer(): string {
    return peerOf(this.stream.session?.socket);
  }

  getDeadline(): number {
    return this.deadlineMs;
  }

  getPath(): string {
    return this.method.definition.path;
  }

  getHost(): string {
    return hostOf(this.headers);
  }

  /** As grpc-js: the verified client certificate of a TLS connection, else nothing. */
  getAuthContext(): CallAuthContext {
    return authContextOf(this.stream.session?.socket);
  }

  /** Unary answers carry their headers with the message; nothing to send early. */
  sendMetadata(): void {}

  /**
   * Collects the request. Like grpc-js' decoder, it answers a second message as soon as it is
   * complete: a unary call never buffers more than two messages, whatever a client keeps sending.
   */
  private receive(chunk: Buffer): void {
    if (!this.answered) this.splitter.push(chunk);
  }

  private message(framed: Buffer): void {
    if (this.answered) return;
    if (this.first === undefined) {
      this.first = framed;
      return;
    }
    this.finish({ code: GrpcCode.UNIMPLEMENTED, details: `Received a second request message for server streaming method ${this.method.definition.path}`, metadata: null });
  }

  private refuseLength(declared: number): void {
    this.finish({ code: GrpcCode.RESOURCE_EXHAUSTED, details: `Received message larger than max (${declared} vs ${this.frameLimitBytes})`, metadata: null });
  }

  /** The client half-closed: decode its one message and run the handler. */
  private run(): void {
    if (this.answered) return;
    // A second message was answered as it arrived (message()); a partial one is not a message.
    const framed = this.first;
    this.first = undefined;
    if (framed === undefined) {
      return this.finish({ code: GrpcCode.UNIMPLEMENTED, details: `Received no request message for server streaming method ${this.method.definition.path}`, metadata: null });
    }
    const message = messageBody(framed, this.encoding, this.frameLimitBytes);
    if ('code' in message) return this.finish(message);
    try {
      this.request = this.method.definition.requestDeserialize(message);
    } catch {
      return this.finish({ code: GrpcCode.INTERNAL, details: 'Error deserializing request', metadata: null });
    }
    try {
      this.method.handler(this as unknown as ServerUnaryCall<DecodedRequest, WireOut | Buffer>, (error, value, trailer) => this.answer(error, value, trailer));
    } catch {
      this.finish({ code: GrpcCode.UNKNOWN, details: 'Unknown error', metadata: null });
    }
  }

  private answer(error: unknown, value: WireOut | Buffer | null | undefined, trailer: Metadata | undefined): void {
    if (error !== null && error !== undefined) return this.finish(statusOfError(error, trailer));
    if (this.answered || this.stream.destroyed || this.stream.closed) return;
    let message: Buffer;
    try {
      message = this.method.definition.responseSerialize(value as WireOut | Buffer);
    } catch {
      return this.finish({ code: GrpcCode.INTERNAL, details: 'Error serializing response', metadata: null });
    }
    this.settle();
    const framed = Buffer.allocUnsafe(FRAME_HEADER_BYTES + message.length);
    framed[0] = 0;
    framed.writeUInt32BE(message.length, 1);
    message.copy(framed, FRAME_HEADER_BYTES);
    const stream = this.stream;
    this.guarded(() => {
      stream.respond(RESPONSE_HEADERS, RESPONSE_OPTIONS);
      stream.once('wantTrailers', () => this.guarded(() => stream.sendTrailers(trailer === undefined ? OK_TRAILERS : { ...OK_TRAILERS, ...trailer.toHttp2Headers() })));
      stream.end(framed);
    });
    this.notifyCancelled();
  }

  /** Ends the call with a status and no message (gRPC's trailers-only answer), as grpc-go does. */
  private finish(status: CallStatus): void {
    if (this.answered || this.stream.destroyed || this.stream.closed) return;
    this.settle();
    this.guarded(() =>
      this.stream.respond(statusOnlyHeaders(status.code, status.details, status.metadata), STATUS_ONLY_OPTIONS),
    );
    this.notifyCancelled();
  }

  /**
   * Runs a write to the stream. One that throws (the stream died between the check and the
   * write, a header value node:http2 refuses) resets the stream rather than escaping into
   * the handler's promise chain, where it would take the member down.
   */
  private guarded(write: () => void): void {
    try {
      write();
    } catch {
      if (!this.stream.destroyed) this.stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
    }
  }

  private settle(): void {
    this.answered = true;
    this.first = undefined;
    if (this.deadlineTimer !== undefined) clearTimeout(this.deadlineTimer);
  }

  /** The stream closed: before an answer that is the client cancelling (or the connection dying). */
  private closed(): void {
    if (!this.answered) this.settle();
    this.notifyCancelled();
  }

  /** grpc-js marks every call cancelled once it ends, answered or not, and says so once. */
  private notifyCancelled(): void {
    if (this.cancelled) return;
    this.cancelled = true;
    process.nextTick(() => this.emit('cancelled', 'cancelled'));
  }
}

function ignore(): void {}

/** What grpc-js' getAuthContext() gives: the verified client certificate of a TLS connection. */
export interface CallAuthContext {
  transportSecurityType?: string;
  sslPeerCertificate?: tls.PeerCertificate;
}

/** A call's getHost(): the request's authority, as grpc-js reads it. */
export function hostOf(headers: http2.IncomingHttpHeaders): string {
  return String(headers[':authority'] ?? headers.host ?? '');
}

/** A call's getPeer(): "address:port" of the connection's socket, as grpc-js words it. */
export function peerOf(socket: net.Socket | undefined): string {
  if (socket?.remoteAddress === undefined) return 'unknown';
  return socket.remotePort === undefined ? socket.remoteAddress : `${socket.remoteAddress}:${socket.remotePort}`;
}

/** A call's getAuthContext(), as grpc-js answers it: empty unless TLS verified the client. */
export function authContextOf(socket: net.Socket | undefined): CallAuthContext {
  if (!(socket instanceof tls.TLSSocket) || !socket.authorized) return {};
  const certificate = socket.getPeerCertificate();
  return { transportSecurityType: 'ssl', ...(certificate.raw === undefined ? {} : { sslPeerCertificate: certificate }) };
}

/**
 * A received message's bytes (`framed` with its 5-byte header), decompressed as grpc-js does
 * when its flag says so: gzip and deflate up to the receive limit, identity as it is; or the
 * status grpc-js answers when that fails.
 */
export function messageBody(framed: Buffer, encoding: string | undefined, limitBytes: number): Buffer | CallStatus {
  const content = framed.subarray(FRAME_HEADER_BYTES);
  if (framed[0] !== 1 || encoding === undefined || encoding === 'identity') return content;
  if (encoding !== 'gzip' && encoding !== 'deflate') {
    return { code: GrpcCode.UNIMPLEMENTED, details: `Received message compressed with unsupported encoding "${encoding}"`, metadata: null };
  }
  try {
    return encoding === 'gzip' ? zlib.gunzipSync(content, { maxOutputLength: limitBytes }) : zlib.inflateSync(content, { maxOutputLength: limitBytes });
  } catch (error) {
    if ((error as { code?: unknown }).code === 'ERR_BUFFER_TOO_LARGE') {
      return { code: GrpcCode.RESOURCE_EXHAUSTED, details: `Received message that decompresses to a size larger than ${limitBytes}`, metadata: null };
    }
    return { code: GrpcCode.INTERNAL, details: 'Failed to decompress message', metadata: null };
  }
}

/** grpc-go's trailers-only answer: one HEADERS frame with the status (and trailing metadata), no message. */
export function statusOnlyHeaders(code: number, details: string, metadata?: Metadata | null): http2.OutgoingHttpHeaders {
  return { ...RESPONSE_HEADERS, ...statusFields(code, details, metadata) };
}

/** grpc-go's status fields: the code, and the encoded details (none on success: grpc-go says nothing more). */
export function statusFields(code: number, details: string, metadata?: Metadata | null): http2.OutgoingHttpHeaders {
  return { 'grpc-status': String(code), 'grpc-message': code === GrpcCode.OK ? '' : encodeGrpcMessage(details), ...metadata?.toHttp2Headers() };
}

/** Printable ASCII but '%': what grpc-go sends unescaped in grpc-message. */
const PLAIN_GRPC_MESSAGE = /^[\x20-\x24\x26-\x7e]*$/;

/**
 * grpc-go's encodeGrpcMessage: each UTF-8 byte outside printable ASCII, and '%', as %XX
 * (upper case); everything else as is, so etcd's error texts travel unchanged. Clients
 * percent-decode it (grpc-js with decodeURIComponent, grpc-go byte by byte).
 */
export function encodeGrpcMessage(message: string): string {
  if (PLAIN_GRPC_MESSAGE.test(message)) return message;
  let encoded = '';
  for (const byte of Buffer.from(message, 'utf8')) {
    encoded += byte >= 0x20 && byte <= 0x7e && byte !== 0x25 ? String.fromCharCode(byte) : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return encoded;
}

/** grpc-js' serverErrorToStatus: a numeric code with its details, else UNKNOWN with the message. */
export function statusOfError(error: unknown, trailer: Metadata | undefined): CallStatus {
  const fields = (typeof error === 'object' && error !== null ? error : {}) as { code?: unknown; details?: unknown; message?: unknown; metadata?: unknown };
  const metadata = trailer ?? (fields.metadata instanceof Metadata ? fields.metadata : null);
  const message = 'message' in fields ? String(fields.message) : 'Unknown Error';
  if (typeof fields.code === 'number' && Number.isInteger(fields.code)) {
    return { code: fields.code, details: typeof fields.details === 'string' ? fields.details : message, metadata };
  }
  return { code: GrpcCode.UNKNOWN, details: message, metadata };
}
