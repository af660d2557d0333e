import type * as http2 from 'node:http2';
import type * as net from 'node:net';
import type { Logger } from '../../log';
import { headerBlockOf } from './hpack-encoder';
import { HpackDecoder, HpackDecodeError } from './hpack-decoder';
import { FramedStream, type StreamConnection } from './framed-stream';
import {
  CLIENT_PREFACE,
  DEFAULT_MAX_FRAME_BYTES,
  DEFAULT_WINDOW_BYTES,
  ErrorCode,
  Flag,
  frame,
  FRAME_HEADER_BYTES,
  FrameType,
  goawayFrame,
  LARGEST_MAX_FRAME_BYTES,
  LARGEST_WINDOW_BYTES,
  rstStreamFrame,
  Setting,
  settingsFrame,
  windowUpdateFrame,
  writeFrameHeader,
} from './frame';

/** Our receive window per stream and for the connection: large, so clients rarely wait on us. */
const STREAM_RECEIVE_WINDOW = 1 << 20;
const CONNECTION_RECEIVE_WINDOW = 16 << 20;
/** The largest header block (all HEADERS and CONTINUATION payloads of one) we collect. */
const MAX_HEADER_BLOCK_BYTES = 256 * 1024;
/** How long a connection we failed may still take to receive our GOAWAY before it is cut. */
const FAILED_CONNECTION_LINGER_MS = 1000;
/** DATA payloads up to this size are copied behind their frame header; larger ones are not. */
const COPIED_PAYLOAD_MAX_BYTES = 1024;
/** Flush passes in one turn: each pass that sends something may let callbacks queue more. */
const MAX_FLUSH_PASSES = 64;

export interface ConnectionOptions {
  /** SETTINGS_MAX_CONCURRENT_STREAMS we advertise and enforce. */
  maxConcurrentStreams: number;
  /** We ping the client this often (etcd's --grpc-keepalive-interval) ... */
  keepaliveIntervalMs: number;
  /** ... and close the connection if the answer takes longer than this (--grpc-keepalive-timeout). */
  keepaliveTimeoutMs: number;
}

/** The payload of our keepalive PINGs (any 8 octets; the client echoes them). */
const KEEPALIVE_PING = Buffer.from('latchkey');

/** A protocol violation that ends the connection (a GOAWAY with `code`). */
class ConnectionError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

/** Data waiting for flow-control window on one stream. */
interface PendingData {
  stream: FramedStream;
  data: Buffer;
  sent: () => void;
}

/**
 * One client HTTP/2 connection served by our own framing (RFC 9113) rather than node:http2:
 * frames are parsed from the socket's chunks, header blocks decoded by our HPACK context, and
 * each new stream handed to `onStream` as a FramedStream.
 *
 * Why: node:http2 builds a native handle, a JS stream object graph and an external string per
 * header value for every request. Under put load a member serving its clients this way used
 * ~0.8x the CPU per put, and its full collections were fewer and shorter (longest 5-9 ms
 * against 14-27 ms).
 *
 * Leniency: like grpc-go, not nghttp2, it accepts a reused stream id (ignored), pseudo-headers
 * after regular ones and connection-specific headers; upper-case header names are refused.
 */
export class Http2Connection implements StreamConnection {
  private readonly streams = new Map<number, FramedStream>();
  private readonly decoder = new HpackDecoder();
  private buffered: Buffer | undefined;
  private prefaceLeft = CLIENT_PREFACE.length;
  private lastStreamId = 0;
  /** A header block being collected across CONTINUATION frames. */
  private continuation: { streamId: number; endStream: boolean; parts: Buffer[]; bytes: number } | undefined;
  /** What the client lets us send: connection window, per-stream initial window, frame size. */
  private sendWindow = DEFAULT_WINDOW_BYTES;
  private peerInitialWindow = DEFAULT_WINDOW_BYTES;
  private peerMaxFrame = DEFAULT_MAX_FRAME_BYTES;
  private receivedSinceUpdate = 0;
  private blocked: PendingData[] = [];
  private corked = false;
  private flushScheduled = false;
  private goingAway = false;
  private dead = false;
  private readonly keepaliveTimer: NodeJS.Timeout;
  private pingTimeout: NodeJS.Timeout | undefined;

  constructor(
    readonly socket: net.Socket,
    private readonly onStream: (stream: FramedStream, headers: http2.IncomingHttpHeaders) => void,
    private readonly logger: Logger,
    private readonly options: ConnectionOptions,
  ) {
    socket.on('data', (chunk: Buffer) => this.read(chunk));
    socket.on('error', () => {});
    socket.on('close', () => this.closed());
    this.write(
      settingsFrame([
        [Setting.MAX_CONCURRENT_STREAMS, Math.min(options.maxConcurrentStreams, 0xffffffff)],
        [Setting.INITIAL_WINDOW_SIZE, STREAM_RECEIVE_WINDOW],
        [Setting.ENABLE_PUSH, 0],
      ]),
    );
    this.write(windowUpdateFrame(0, CONNECTION_RECEIVE_WINDOW - DEFAULT_WINDOW_BYTES));
    this.keepaliveTimer = setInterval(() => this.ping(), options.keepaliveIntervalMs).unref();
    socket.resume();
  }

  private ping(): void {
    if (this.dead || this.pingTimeout !== undefined) return;
    this.write(frame(FrameType.PING, 0, 0, KEEPALIVE_PING));
    this.pingTimeout = setTimeout(() => {
      this.logger.debug('keepalive ping unanswered; closing the connection');
      this.socket.destroy();
    }, this.options.keepaliveTimeoutMs).unref();
  }

  /** Open streams (a graceful close waits for none to be left). */
  get openStreams(): number {
    return this.streams.size;
  }

  /** Refuses new streams and closes the connection once the open ones are done. */
  shutdown(): void {
    if (this.goingAway || this.dead) return;
    this.goingAway = true;
    this.write(goawayFrame(this.lastStreamId, ErrorCode.NO_ERROR));
    this.endIfIdle();
  }

  destroy(): void {
    this.socket.destroy();
  }

  // StreamConnection: what FramedStream asks of us.

  sendHeaders(stream: FramedStream, headers: http2.OutgoingHttpHeaders, endStream: boolean): void {
    const block = headerBlockOf(headers);
    let flags = endStream ? Flag.END_STREAM : 0;
    if (block.length <= this.peerMaxFrame) {
      this.write(frame(FrameType.HEADERS, flags | Flag.END_HEADERS, stream.id, block));
      return;
    }
    for (let at = 0; at < block.length; at += this.peerMaxFrame) {
      const part = block.subarray(at, at + this.peerMaxFrame);
      const last = at + this.peerMaxFrame >= block.length;
      this.write(frame(at === 0 ? FrameType.HEADERS : FrameType.CONTINUATION, (last ? Flag.END_HEADERS : 0) | flags, stream.id, part));
      flags = 0;
    }
  }

  sendData(stream: FramedStream, data: Buffer, sent: () => void): void {
    const pending: PendingData = { stream, data, sent };
    // A stream's data waiting for window goes first: its frames must leave in order. (While
    // a flush runs, a write from a `sent` callback waits here for the flush's next pass.)
    if (stream.queuedData === 0 && this.sendSome(pending)) return;
    stream.queuedData++;
    this.blocked.push(pending);
  }

  sendReset(stream: FramedStream, code: number): void {
    if (!this.dead) this.write(rstStreamFrame(stream.id, code));
  }

  release(stream: FramedStream): void {
    this.streams.delete(stream.id);
    for (let index = this.blocked.length - 1; index >= 0; index--) {
      if (this.blocked[index]!.stream === stream) this.blocked.splice(index, 1);
    }
    if (this.goingAway) this.endIfIdle();
  }

  /**
   * Sends as much of `pending.data` as the windows allow, as DATA frames; true (and `sent`
   * called) once all of it has left, false with the rest left in `pending.data`.
   */
  private sendSome(pending: PendingData): boolean {
    const { stream } = pending;
    let data = pending.data;
    while (data.length > 0) {
      const room = Math.min(this.sendWindow, stream.sendWindow, this.peerMaxFrame, data.length);
      if (room <= 0) {
        pending.data = data;
        return false;
      }
      if (room <= COPIED_PAYLOAD_MAX_BYTES) {
        // Small (most answers): one buffer costs less than a second write.
        const out = Buffer.allocUnsafe(FRAME_HEADER_BYTES + room);
        writeFrameHeader(out, 0, room, FrameType.DATA, 0, stream.id);
        data.copy(out, FRAME_HEADER_BYTES, 0, room);
        this.write(out);
      } else {
        // Large (ranges, snapshots): the header and the caller's bytes as two writes of one
        // corked turn, the payload not copied.
        const header = Buffer.allocUnsafe(FRAME_HEADER_BYTES);
        writeFrameHeader(header, 0, room, FrameType.DATA, 0, stream.id);
        this.write(header);
        this.write(data.subarray(0, room));
      }
      this.sendWindow -= room;
      stream.sendWindow -= room;
      data = data.subarray(room);
    }
    pending.sent();
    return true;
  }

  /**
   * A window opened: sends waiting data in order per stream. A stream whose own window is
   * shut (a client not reading it, e.g. a slow watcher) holds back only its own data.
   */
  private flushBlocked(): void {
    // A `sent` callback may queue a stream's next write while the pass runs: it lands in the
    // fresh list, behind that stream's older data, and the next pass sends it.
    for (let pass = 0; pass < MAX_FLUSH_PASSES && this.blocked.length > 0 && this.sendWindow > 0; pass++) {
      const waiting = this.blocked;
      this.blocked = [];
      const stillBlocked = new Set<FramedStream>();
      const remaining: PendingData[] = [];
      let progressed = false;
      for (const entry of waiting) {
        if (entry.stream.destroyed) continue;
        if (stillBlocked.has(entry.stream) || this.sendWindow <= 0 || !this.sendSome(entry)) {
          stillBlocked.add(entry.stream);
          remaining.push(entry);
          continue;
        }
        // Counted until now, so a write queued from its `sent` callback waited behind it.
        entry.stream.queuedData--;
        progressed = true;
      }
      this.blocked = remaining.concat(this.blocked);
      if (!progressed) return;
    }
    // Still sending after the last pass: go on in a later turn rather than wait for a
    // WINDOW_UPDATE the client has no reason to send.
    if (this.blocked.length > 0 && this.sendWindow > 0 && !this.flushScheduled && !this.dead) {
      this.flushScheduled = true;
      setImmediate(() => {
        this.flushScheduled = false;
        // Outside read(): a throwing callback must cost this connection, not the member.
        try {
          this.flushBlocked();
        } catch (error) {
          this.logger.error({ err: error }, 'HTTP/2 connection failed');
          this.fail(ErrorCode.INTERNAL_ERROR, 'internal error');
        }
      });
    }
  }

  /** Writes are corked for the rest of the turn, so one turn's frames leave in one write. */
  private write(bytes: Buffer): void {
    if (this.dead) return;
    if (!this.corked) {
      this.corked = true;
      this.socket.cork();
      process.nextTick(() => {
        this.corked = false;
        this.socket.uncork();
      });
    }
    this.socket.write(bytes);
  }

  private read(chunk: Buffer): void {
    if (this.dead) return;
    let data = this.buffered === undefined ? chunk : Buffer.concat([this.buffered, chunk]);
    this.buffered = undefined;
    try {
      if (this.prefaceLeft > 0) {
        const take = Math.min(this.prefaceLeft, data.length);
        // The sniffer that handed us the socket has checked the preface already.
        this.prefaceLeft -= take;
        data = data.subarray(take);
      }
      let at = 0;
      while (data.length - at >= FRAME_HEADER_BYTES) {
        const length = (data[at]! << 16) | (data[at + 1]! << 8) | data[at + 2]!;
        if (length > DEFAULT_MAX_FRAME_BYTES) throw new ConnectionError(ErrorCode.FRAME_SIZE_ERROR, `frame of ${length} octets`);
        if (data.length - at < FRAME_HEADER_BYTES + length) break;
        const type = data[at + 3]!;
        const flags = data[at + 4]!;
        const streamId = data.readUInt32BE(at + 5) & 0x7fffffff;
        const payload = data.subarray(at + FRAME_HEADER_BYTES, at + FRAME_HEADER_BYTES + length);
        at += FRAME_HEADER_BYTES + length;
        this.onFrame(type, flags, streamId, payload);
        if (this.dead) return;
      }
      if (at < data.length) this.buffered = Buffer.from(data.subarray(at));
    } catch (error) {
      if (error instanceof ConnectionError) return this.fail(error.code, error.message);
      if (error instanceof HpackDecodeError) return this.fail(ErrorCode.COMPRESSION_ERROR, error.message);
      this.logger.error({ err: error }, 'HTTP/2 connection failed');
      this.fail(ErrorCode.INTERNAL_ERROR, 'internal error');
    }
  }

  private onFrame(type: number, flags: number, streamId: number, payload: Buffer): void {
    if (this.continuation !== undefined && type !== FrameType.CONTINUATION) {
      throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, 'expected CONTINUATION');
    }
    switch (type) {
      case FrameType.DATA:
        return this.onData(flags, streamId, payload);
      case FrameType.HEADERS:
        return this.onHeaders(flags, streamId, payload);
      case FrameType.CONTINUATION:
        return this.onContinuation(flags, streamId, payload);
      case FrameType.RST_STREAM:
        if (streamId === 0 || payload.length !== 4) throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, 'bad RST_STREAM');
        this.streams.get(streamId)?.destroy();
        return;
      case FrameType.SETTINGS:
        return this.onSettings(flags, streamId, payload);
      case FrameType.PING:
        if (streamId !== 0 || payload.length !== 8) throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, 'bad PING');
        if ((flags & Flag.ACK) === 0) this.write(frame(FrameType.PING, Flag.ACK, 0, payload));
        else this.pingAnswered();
        return;
      case FrameType.GOAWAY:
        // The client will open no new streams; the ones it has finish as usual.
        return;
      case FrameType.WINDOW_UPDATE:
        return this.onWindowUpdate(streamId, payload);
      case FrameType.PUSH_PROMISE:
        throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, 'PUSH_PROMISE from a client');
      default:
        // PRIORITY and unknown frame types are ignored (RFC 9113 5.3.2, 4.1).
        return;
    }
  }

  private onData(flags: number, streamId: number, payload: Buffer): void {
    if (streamId === 0) throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, 'DATA on stream 0');
    if (streamId > this.lastStreamId) throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, 'DATA on an idle stream');
    this.consumed(payload.length);
    const stream = this.streams.get(streamId);
    if (stream === undefined) return;
    const data = unpad(flags, payload);
    stream.receivedSinceUpdate += payload.length;
    stream.receivedData(data);
    if ((flags & Flag.END_STREAM) !== 0) {
      stream.receivedEnd();
    } else if (stream.receivedSinceUpdate >= STREAM_RECEIVE_WINDOW / 2) {
      this.write(windowUpdateFrame(streamId, stream.receivedSinceUpdate));
      stream.receivedSinceUpdate = 0;
    }
  }

  /** Returns received octets to the client's connection window once half of it is used. */
  private consumed(octets: number): void {
    this.receivedSinceUpdate += octets;
    if (this.receivedSinceUpdate >= CONNECTION_RECEIVE_WINDOW / 2) {
      this.write(windowUpdateFrame(0, this.receivedSinceUpdate));
      this.receivedSinceUpdate = 0;
    }
  }

  private onHeaders(flags: number, streamId: number, payload: Buffer): void {
    if (streamId === 0) throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, 'HEADERS on stream 0');
    let block = unpad(flags, payload);
    if ((flags & Flag.PRIORITY) !== 0) {
      if (block.length < 5) throw new ConnectionError(ErrorCode.FRAME_SIZE_ERROR, 'short HEADERS priority');
      block = block.subarray(5);
    }
    const endStream = (flags & Flag.END_STREAM) !== 0;
    if ((flags & Flag.END_HEADERS) !== 0) return this.onHeaderBlock(streamId, endStream, block);
    this.continuation = { streamId, endStream, parts: [Buffer.from(block)], bytes: block.length };
  }

  private onContinuation(flags: number, streamId: number, payload: Buffer): void {
    const pending = this.continuation;
    if (pending === undefined || pending.streamId !== streamId) throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, 'unexpected CONTINUATION');
    pending.bytes += payload.length;
    if (pending.bytes > MAX_HEADER_BLOCK_BYTES) throw new ConnectionError(ErrorCode.ENHANCE_YOUR_CALM, 'header block too large');
    pending.parts.push(Buffer.from(payload));
    if ((flags & Flag.END_HEADERS) === 0) return;
    this.continuation = undefined;
    this.onHeaderBlock(streamId, pending.endStream, Buffer.concat(pending.parts));
  }

  private onHeaderBlock(streamId: number, endStream: boolean, block: Buffer): void {
    // Every block is decoded, even one we refuse: it may change the HPACK table.
    const headers = Object.create(null) as http2.IncomingHttpHeaders;
    this.decoder.decode(block, (name, value) => {
      const existing = headers[name];
      if (existing === undefined) headers[name] = value;
      else if (Array.isArray(existing)) existing.push(value);
      else headers[name] = [existing, value];
    });
    const open = this.streams.get(streamId);
    if (open !== undefined) {
      // Trailers from the client: gRPC has none worth reading; they end the request.
      if (endStream) open.receivedEnd();
      return;
    }
    if (streamId <= this.lastStreamId) {
      // A stream that is already closed (answered or reset): nothing to do.
      return;
    }
    if ((streamId & 1) === 0) throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, 'even stream id from a client');
    this.lastStreamId = streamId;
    if (this.goingAway || this.streams.size >= this.options.maxConcurrentStreams) {
      this.write(rstStreamFrame(streamId, ErrorCode.REFUSED_STREAM));
      return;
    }
    const stream = new FramedStream(streamId, this, this.peerInitialWindow);
    this.streams.set(streamId, stream);
    this.onStream(stream, headers);
    if (endStream) stream.receivedEnd();
  }

  private onSettings(flags: number, streamId: number, payload: Buffer): void {
    if (streamId !== 0) throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, 'SETTINGS on a stream');
    if ((flags & Flag.ACK) !== 0) return;
    if (payload.length % 6 !== 0) throw new ConnectionError(ErrorCode.FRAME_SIZE_ERROR, 'SETTINGS length');
    for (let at = 0; at < payload.length; at += 6) {
      const id = payload.readUInt16BE(at);
      const value = payload.readUInt32BE(at + 2);
      if (id === Setting.INITIAL_WINDOW_SIZE) {
        if (value > LARGEST_WINDOW_BYTES) throw new ConnectionError(ErrorCode.FLOW_CONTROL_ERROR, 'initial window too large');
        const delta = value - this.peerInitialWindow;
        this.peerInitialWindow = value;
        for (const stream of this.streams.values()) stream.sendWindow += delta;
      } else if (id === Setting.MAX_FRAME_SIZE) {
        if (value < DEFAULT_MAX_FRAME_BYTES || value > LARGEST_MAX_FRAME_BYTES) throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, 'bad max frame size');
        this.peerMaxFrame = value;
      }
      // Header table size: our encoder never indexes. Push and header list size: nothing to do.
    }
    this.write(frame(FrameType.SETTINGS, Flag.ACK, 0));
    this.flushBlocked();
  }

  private onWindowUpdate(streamId: number, payload: Buffer): void {
    if (payload.length !== 4) throw new ConnectionError(ErrorCode.FRAME_SIZE_ERROR, 'WINDOW_UPDATE length');
    const increment = payload.readUInt32BE(0) & 0x7fffffff;
    if (streamId === 0) {
      if (increment === 0) throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, 'zero window increment');
      this.sendWindow += increment;
      if (this.sendWindow > LARGEST_WINDOW_BYTES) throw new ConnectionError(ErrorCode.FLOW_CONTROL_ERROR, 'window overflow');
    } else {
      const stream = this.streams.get(streamId);
      if (stream === undefined) return;
      if (increment === 0) return stream.close(ErrorCode.PROTOCOL_ERROR);
      stream.sendWindow += increment;
      if (stream.sendWindow > LARGEST_WINDOW_BYTES) return stream.close(ErrorCode.FLOW_CONTROL_ERROR);
    }
    this.flushBlocked();
  }

  private pingAnswered(): void {
    if (this.pingTimeout === undefined) return;
    clearTimeout(this.pingTimeout);
    this.pingTimeout = undefined;
  }

  private fail(code: number, reason: string): void {
    if (this.dead) return;
    this.logger.debug({ code, reason }, 'HTTP/2 connection error');
    this.write(goawayFrame(this.lastStreamId, code, reason));
    this.dead = true;
    this.socket.end();
    // A client that keeps its side open after our GOAWAY is cut.
    setTimeout(() => this.socket.destroy(), FAILED_CONNECTION_LINGER_MS).unref();
    this.closed();
  }

  private endIfIdle(): void {
    if (this.streams.size > 0 || this.dead) return;
    this.dead = true;
    this.socket.end();
  }

  /** The socket closed: every stream still open is cancelled. */
  private closed(): void {
    this.dead = true;
    clearInterval(this.keepaliveTimer);
    this.pingAnswered();
    for (const stream of [...this.streams.values()]) stream.destroy();
    this.blocked.length = 0;
  }
}

/** A DATA or HEADERS payload without its padding (RFC 9113 6.1). */
function unpad(flags: number, payload: Buffer): Buffer {
  if ((flags & Flag.PADDED) === 0) return payload;
  if (payload.length < 1) throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, 'padded frame without pad length');
  const padLength = payload[0]!;
  if (padLength >= payload.length) throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, 'padding longer than the frame');
  return payload.subarray(1, payload.length - padLength);
}
