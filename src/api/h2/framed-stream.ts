import { EventEmitter } from 'node:events';
import type * as http2 from 'node:http2';
import type * as net from 'node:net';
import { ErrorCode } from './frame';

/** What a FramedStream needs of its connection. */
export interface StreamConnection {
  /** The socket the connection reads (what getPeer() and getAuthContext() look at). */
  readonly socket: net.Socket;
  sendHeaders(stream: FramedStream, headers: http2.OutgoingHttpHeaders, endStream: boolean): void;
  /**
   * Queues `data` (flow-controlled); calls `sent` once all of it has left. Large data goes
   * to the socket as it is: the caller must not change it afterwards.
   */
  sendData(stream: FramedStream, data: Buffer, sent: () => void): void;
  sendReset(stream: FramedStream, code: number): void;
  /** The stream is closed both ways: forget it. */
  release(stream: FramedStream): void;
}

/**
 * A server-side HTTP/2 stream of our own framing layer (connection.ts). It offers the part
 * of node:http2's ServerHttp2Stream that the unary call path uses (respond, end, trailers,
 * close and the data/end/close events), so DirectUnaryCall serves either kind unchanged.
 */
export class FramedStream extends EventEmitter {
  destroyed = false;
  /** The client half-closed (END_STREAM received). */
  remoteEnded = false;
  /** We sent END_STREAM. */
  localEnded = false;
  /** How many octets we may still send on this stream (the client's window for it). */
  sendWindow: number;
  /** Writes of this stream waiting in the connection for window (they leave in order). */
  queuedData = 0;
  /** Octets received since our last WINDOW_UPDATE for this stream. */
  receivedSinceUpdate = 0;
  private waitForTrailers = false;
  /** DATA handed to the connection and not yet sent (waiting for window). */
  private pendingWrites = 0;
  /** Trailers asked for while DATA was still waiting: they go out after it. */
  private deferredTrailers: http2.OutgoingHttpHeaders | undefined;
  readonly session: { readonly socket: net.Socket };

  /** node:http2's name for it: a stream is closed once it is destroyed. */
  get closed(): boolean {
    return this.destroyed;
  }

  constructor(
    readonly id: number,
    private readonly connection: StreamConnection,
    initialSendWindow: number,
  ) {
    super();
    this.sendWindow = initialSendWindow;
    this.session = { socket: connection.socket };
  }

  respond(headers: http2.OutgoingHttpHeaders, options: { endStream?: boolean; waitForTrailers?: boolean } = {}): void {
    if (this.destroyed || this.localEnded) throw new Error('stream already answered');
    this.waitForTrailers = options.waitForTrailers === true;
    const endStream = options.endStream === true;
    this.connection.sendHeaders(this, headers, endStream);
    if (endStream) this.endedLocally();
  }

  /** Sends the answer's body; then asks for trailers ('wantTrailers'). */
  end(data: Buffer): void {
    this.write(data, () => {
      if (!this.destroyed && this.waitForTrailers) this.emit('wantTrailers');
    });
  }

  /** Sends DATA (flow-controlled); `sent` runs once it has all left. */
  write(data: Buffer, sent: () => void): void {
    if (this.destroyed || this.localEnded) return;
    this.pendingWrites++;
    this.connection.sendData(this, data, () => {
      this.pendingWrites--;
      sent();
      if (this.pendingWrites === 0 && this.deferredTrailers !== undefined && !this.destroyed) {
        const trailers = this.deferredTrailers;
        this.deferredTrailers = undefined;
        this.connection.sendHeaders(this, trailers, true);
        this.endedLocally();
      }
    });
  }

  /** Ends the stream with trailers, after any DATA still waiting for window. */
  sendTrailers(trailers: http2.OutgoingHttpHeaders): void {
    if (this.destroyed || this.localEnded || this.deferredTrailers !== undefined) throw new Error('stream already ended');
    if (this.pendingWrites > 0) {
      this.deferredTrailers = trailers;
      return;
    }
    this.connection.sendHeaders(this, trailers, true);
    this.endedLocally();
  }

  /** Resets the stream (RST_STREAM with `code`). */
  close(code: number = ErrorCode.NO_ERROR): void {
    if (this.destroyed) return;
    this.connection.sendReset(this, code);
    this.destroy();
  }

  /** Request data nobody reads is dropped anyway: nothing to resume. */
  resume(): void {}

  /** The client's DATA, END_STREAM and RST_STREAM, as the connection reads them. */
  receivedData(data: Buffer): void {
    if (!this.remoteEnded && !this.destroyed) this.emit('data', data);
  }

  receivedEnd(): void {
    if (this.remoteEnded || this.destroyed) return;
    this.remoteEnded = true;
    this.emit('end');
    if (this.localEnded) this.destroy();
  }

  /** Closed without a word of ours (RST_STREAM from the client, or the connection went). */
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.connection.release(this);
    this.emit('close');
  }

  private endedLocally(): void {
    this.localEnded = true;
    // Answered before the client finished sending: grpc-go resets the rest of the request
    // with NO_ERROR (RFC 9113 8.1) rather than reading it.
    if (!this.remoteEnded) this.connection.sendReset(this, ErrorCode.NO_ERROR);
    this.destroy();
  }
}
