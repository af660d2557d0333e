import { Metadata, type handleBidiStreamingCall, type handleServerStreamingCall, type MethodDefinition } from '@grpc/grpc-js';
import { Duplex } from 'node:stream';
import type * as http2 from 'node:http2';
import { GrpcCode } from '../errors';
import { authContextOf, hostOf, statusFields, messageBody, peerOf, RESPONSE_HEADERS, statusOfError, statusOnlyHeaders, type CallAuthContext, type CallStatus } from './direct-unary-call';
import { GrpcMessageSplitter } from './grpc-message-splitter';
import { HeaderMetadata } from './header-metadata';
import type { FramedStream } from './h2/framed-stream';
import type { DecodedRequest } from './method-codec';
import type { WireOut } from './codec/wire-scalars';

/** A streaming method served on our own framing: its codec, handler and kind. */
export interface FramedStreamingMethod {
  definition: MethodDefinition<DecodedRequest, WireOut | Buffer>;
  /** Bidi handlers take a duplex call; server-streaming ones a writable call with `request`. */
  handler: handleBidiStreamingCall<DecodedRequest, WireOut | Buffer> | handleServerStreamingCall<DecodedRequest, WireOut | Buffer>;
  /** Reports the call's final status code (the handled-RPC counter). */
  report?: (code: number) => void;
}

const MESSAGE_HEADER_BYTES = 5;

/**
 * A streaming gRPC call (Watch, LeaseKeepAlive, Snapshot, Observe) on our own HTTP/2 framing,
 * behaving as grpc-js' ServerDuplexStream / ServerWritableStream towards its handler: an
 * object-mode duplex whose readable side gives the decoded requests (and 'end' when the
 * client half-closes), whose writable side sends messages (write callbacks, 'drain' and
 * backpressure as the client's flow-control window allows), `end()` finishing with OK,
 * `emit('error', err)` with the error's status, and 'cancelled' once the call is over.
 * Headers and trailers are grpc-go's, as real etcd sends them.
 */
export class FramedStreamingCall extends Duplex {
  cancelled = false;
  /** The one request of a server-streaming call (set before its handler runs). */
  request: DecodedRequest | undefined;
  readonly metadata: Metadata;
  private pendingStatus: CallStatus = { code: GrpcCode.OK, details: 'OK', metadata: null };
  private trailingMetadata = new Metadata();
  private headersSent = false;
  private statusSent = false;
  private readonly splitter: GrpcMessageSplitter;
  private readonly deadlineMs: number;
  private deadlineTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly stream: FramedStream,
    private readonly headers: http2.IncomingHttpHeaders,
    private readonly method: FramedStreamingMethod,
    private readonly frameLimitBytes: number,
    timeoutMs: number | undefined,
  ) {
    super({ objectMode: true });
    this.metadata = new HeaderMetadata(headers);
    this.on('error', (error: unknown) => {
      this.pendingStatus = statusOfError(error, undefined);
      this.end();
    });
    this.splitter = new GrpcMessageSplitter(
      frameLimitBytes,
      (framed) => this.received(framed),
      (declared) => this.sendStatus({ code: GrpcCode.RESOURCE_EXHAUSTED, details: `Received message larger than max (${declared} vs ${frameLimitBytes})`, metadata: null }),
    );
    stream.on('data', (chunk: Buffer) => this.splitter.push(chunk));
    stream.once('end', () => this.halfClosed());
    stream.once('close', () => this.streamClosed());
    this.deadlineMs = timeoutMs === undefined ? Infinity : Date.now() + timeoutMs;
    if (timeoutMs !== undefined) {
      this.deadlineTimer = setTimeout(() => this.sendStatus({ code: GrpcCode.DEADLINE_EXCEEDED, details: 'Deadline exceeded', metadata: null }), timeoutMs);
    }
    // grpc-js starts a bidi handler at once; a server-streaming one once its request is in.
    if (method.definition.requestStream) this.runHandler();
  }

  getPeer(): string {
    return peerOf(this.stream.session.socket);
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

  getAuthContext(): CallAuthContext {
    return authContextOf(this.stream.session.socket);
  }

  /** Sends the answer headers now (they otherwise go with the first message). */
  sendMetadata(): void {
    this.sendHeaders();
  }

  override end(metadata?: unknown): this {
    if (metadata instanceof Metadata) this.trailingMetadata = metadata;
    return super.end();
  }

  override _read(): void {}

  override _write(chunk: WireOut | Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    if (this.statusSent || this.stream.destroyed) return callback();
    let message: Buffer;
    try {
      message = this.method.definition.responseSerialize(chunk);
    } catch {
      this.sendStatus({ code: GrpcCode.INTERNAL, details: 'Error serializing response', metadata: null });
      return callback();
    }
    const framed = Buffer.allocUnsafe(MESSAGE_HEADER_BYTES + message.length);
    framed[0] = 0;
    framed.writeUInt32BE(message.length, 1);
    message.copy(framed, MESSAGE_HEADER_BYTES);
    this.sendHeaders();
    this.stream.write(framed, () => callback());
  }

  override _final(callback: (error?: Error | null) => void): void {
    callback(null);
    this.sendStatus({ ...this.pendingStatus, metadata: this.pendingStatus.metadata ?? this.trailingMetadata });
  }

  private sendHeaders(): void {
    if (this.headersSent || this.statusSent || this.stream.destroyed) return;
    this.headersSent = true;
    this.stream.respond(RESPONSE_HEADERS, {});
  }

  private received(framed: Buffer): void {
    if (this.statusSent) return;
    const body = messageBody(framed, encodingOf(this.headers), this.frameLimitBytes);
    if ('code' in body) return this.sendStatus(body);
    let decoded: DecodedRequest;
    try {
      decoded = this.method.definition.requestDeserialize(body);
    } catch {
      return this.sendStatus({ code: GrpcCode.INTERNAL, details: 'Error deserializing request', metadata: null });
    }
    if (this.method.definition.requestStream) {
      this.push(decoded);
      return;
    }
    if (this.request !== undefined) {
      return this.sendStatus({ code: GrpcCode.UNIMPLEMENTED, details: `Received a second request message for server streaming method ${this.method.definition.path}`, metadata: null });
    }
    this.request = decoded;
  }

  private halfClosed(): void {
    if (this.statusSent) return;
    if (this.method.definition.requestStream) {
      this.push(null);
      return;
    }
    if (this.request === undefined) {
      return this.sendStatus({ code: GrpcCode.UNIMPLEMENTED, details: `Received no request message for server streaming method ${this.method.definition.path}`, metadata: null });
    }
    this.runHandler();
  }

  private runHandler(): void {
    try {
      (this.method.handler as unknown as (call: FramedStreamingCall) => void)(this);
    } catch {
      this.sendStatus({ code: GrpcCode.UNKNOWN, details: 'Unknown error', metadata: null });
    }
  }

  private sendStatus(status: CallStatus): void {
    if (this.statusSent || this.stream.destroyed) return;
    this.statusSent = true;
    if (this.deadlineTimer !== undefined) clearTimeout(this.deadlineTimer);
    this.method.report?.(status.code);
    try {
      if (this.headersSent) this.stream.sendTrailers(statusFields(status.code, status.details, status.metadata));
      else this.stream.respond(statusOnlyHeaders(status.code, status.details, status.metadata), { endStream: true });
    } catch {
      if (!this.stream.destroyed) this.stream.close();
    }
    this.notifyCancelled();
  }

  /** The stream is gone: before a status that is the client cancelling (or its connection dying). */
  private streamClosed(): void {
    if (this.deadlineTimer !== undefined) clearTimeout(this.deadlineTimer);
    this.statusSent = true;
    this.notifyCancelled();
  }

  /** As grpc-js: every call ends 'cancelled' (once), and the duplex is destroyed. */
  private notifyCancelled(): void {
    if (this.cancelled) return;
    this.cancelled = true;
    this.emit('cancelled', 'cancelled');
    this.destroy();
  }
}

function encodingOf(headers: http2.IncomingHttpHeaders): string | undefined {
  const encoding = headers['grpc-encoding'];
  return typeof encoding === 'string' ? encoding : undefined;
}

