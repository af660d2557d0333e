import type * as net from 'node:net';
import { Duplex } from 'node:stream';
import { rewriteAuthorityInBlock } from './hpack-authority';
import { CLIENT_PREFACE, DEFAULT_MAX_FRAME_BYTES, Flag, FRAME_HEADER_BYTES, FrameType } from './h2/frame';

/**
 * Sits between a client's TCP socket and grpc-js (injected with
 * `server.createConnectionInjector().injectConnection()`), and fixes `:authority` values that
 * nghttp2 would reject (see hpack-authority.ts for why). Server→client bytes pass untouched;
 * client→server bytes are followed frame by frame and only complete HEADERS frames are
 * re-emitted, everything else is forwarded as slices of the chunks read from the socket.
 */

/** "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" (RFC 9113 section 3.4). */
export const CLIENT_PREFACE_BYTES = CLIENT_PREFACE.length;
const PRIORITY_FIELDS_BYTES = 5;
/**
 * SETTINGS_MAX_FRAME_SIZE that Node's http2 server advertises (the protocol default; grpc-js
 * does not change it). Larger HEADERS frames are errors anyway and pass through unparsed, and
 * a rewrite that would grow past it is not applied.
 */
export const SERVER_MAX_FRAME_BYTES = DEFAULT_MAX_FRAME_BYTES;

type State = 'preface' | 'frame-header' | 'pass-payload' | 'hold-payload';

/**
 * The client→server byte transformation, independent of streams so it can be tested with
 * arbitrary chunking. Output for a byte stream is the same whatever the chunk boundaries.
 */
export class AuthorityFixupParser {
  private state: State = 'preface';
  /** Bytes left in the current state (preface or payload). */
  private remaining = CLIENT_PREFACE_BYTES;
  /** A frame header split across chunks (only the first `headerFilled` bytes are valid). */
  private readonly header = Buffer.alloc(FRAME_HEADER_BYTES);
  private headerFilled = 0;
  /** A HEADERS frame being collected for rewriting: its 9-byte header and payload parts. */
  private heldHeader: Buffer = Buffer.alloc(0);
  private heldPayload: Buffer[] = [];
  /** Frames rewritten so far (for tests and logs). */
  rewrittenFrames = 0;

  /** Transforms one chunk; returns the bytes to forward now, in order (may be empty). */
  push(chunk: Buffer): Buffer[] {
    const out: Buffer[] = [];
    let pos = 0;
    /** Start of the run of chunk bytes that are forwarded as they are. */
    let passFrom = 0;
    const flushPass = (upTo: number): void => {
      if (upTo > passFrom) out.push(passFrom === 0 && upTo === chunk.length ? chunk : chunk.subarray(passFrom, upTo));
      passFrom = upTo;
    };
    while (pos < chunk.length) {
      switch (this.state) {
        case 'preface':
        case 'pass-payload': {
          const n = Math.min(this.remaining, chunk.length - pos);
          pos += n;
          this.remaining -= n;
          if (this.remaining === 0) this.state = 'frame-header';
          break;
        }
        case 'frame-header': {
          if (this.headerFilled === 0 && chunk.length - pos >= FRAME_HEADER_BYTES) {
            const frameHeader = chunk.subarray(pos, pos + FRAME_HEADER_BYTES);
            if (this.wantsRewrite(frameHeader)) {
              flushPass(pos);
              pos += FRAME_HEADER_BYTES;
              passFrom = pos;
              this.startHold(Buffer.from(frameHeader), out);
            } else {
              pos += FRAME_HEADER_BYTES;
              this.startPass(frameHeader);
            }
            break;
          }
          // The header is split across chunks: keep its bytes until the type is known.
          flushPass(pos);
          const n = Math.min(FRAME_HEADER_BYTES - this.headerFilled, chunk.length - pos);
          chunk.copy(this.header, this.headerFilled, pos, pos + n);
          this.headerFilled += n;
          pos += n;
          passFrom = pos;
          if (this.headerFilled < FRAME_HEADER_BYTES) break;
          this.headerFilled = 0;
          const frameHeader = Buffer.from(this.header);
          if (this.wantsRewrite(frameHeader)) {
            this.startHold(frameHeader, out);
          } else {
            out.push(frameHeader);
            this.startPass(frameHeader);
          }
          break;
        }
        case 'hold-payload': {
          const n = Math.min(this.remaining, chunk.length - pos);
          this.heldPayload.push(chunk.subarray(pos, pos + n));
          pos += n;
          passFrom = pos;
          this.remaining -= n;
          if (this.remaining === 0) this.finishHold(out);
          break;
        }
      }
    }
    flushPass(chunk.length);
    return out;
  }

  private wantsRewrite(frameHeader: Buffer): boolean {
    const length = frameHeader.readUIntBE(0, 3);
    const type = frameHeader[3]!;
    const flags = frameHeader[4]!;
    // HEADERS without END_HEADERS continue in CONTINUATION frames: forwarded unchanged.
    return type === FrameType.HEADERS && (flags & Flag.END_HEADERS) !== 0 && length <= SERVER_MAX_FRAME_BYTES;
  }

  private startPass(frameHeader: Buffer): void {
    this.remaining = frameHeader.readUIntBE(0, 3);
    this.state = this.remaining === 0 ? 'frame-header' : 'pass-payload';
  }

  private startHold(frameHeader: Buffer, out: Buffer[]): void {
    this.heldHeader = frameHeader;
    this.heldPayload = [];
    this.remaining = frameHeader.readUIntBE(0, 3);
    this.state = 'hold-payload';
    if (this.remaining === 0) this.finishHold(out);
  }

  private finishHold(out: Buffer[]): void {
    const payload = this.heldPayload.length === 1 ? this.heldPayload[0]! : Buffer.concat(this.heldPayload);
    const rewritten = rewriteHeadersFrame(this.heldHeader, payload);
    if (rewritten === undefined) {
      out.push(this.heldHeader, payload);
    } else {
      out.push(rewritten);
      this.rewrittenFrames++;
    }
    this.heldHeader = Buffer.alloc(0);
    this.heldPayload = [];
    this.state = 'frame-header';
  }
}

/** A HEADERS frame with its :authority fixed, or undefined to forward it as it is. */
export function rewriteHeadersFrame(frameHeader: Buffer, payload: Buffer): Buffer | undefined {
  const flags = frameHeader[4]!;
  let blockStart = 0;
  let padding = 0;
  if ((flags & Flag.PADDED) !== 0) {
    if (payload.length < 1) return undefined;
    padding = payload[0]!;
    blockStart = 1;
  }
  if ((flags & Flag.PRIORITY) !== 0) blockStart += PRIORITY_FIELDS_BYTES;
  const blockEnd = payload.length - padding;
  if (blockEnd < blockStart) return undefined; // malformed: nghttp2 reports it
  const block = rewriteAuthorityInBlock(payload.subarray(blockStart, blockEnd));
  if (block === undefined) return undefined;
  const newLength = blockStart + block.length + padding;
  if (newLength > SERVER_MAX_FRAME_BYTES) return undefined;
  const header = Buffer.from(frameHeader);
  header.writeUIntBE(newLength, 0, 3);
  return Buffer.concat([header, payload.subarray(0, blockStart), block, payload.subarray(blockEnd)]);
}

/**
 * The socket as grpc-js sees it: a Duplex whose readable side is the fixed client→server byte
 * stream and whose writable side goes to the socket unchanged. Backpressure is honoured both
 * ways; end, close, errors and destroy are propagated.
 */
export class AuthorityFixupStream extends Duplex {
  readonly socket: net.Socket;
  private readonly parser = new AuthorityFixupParser();
  /** Set while the socket is paused because our readable buffer is full. */
  private socketPaused = false;

  constructor(socket: net.Socket) {
    // allowHalfOpen false, like a net.Server socket: when the client ends, we end too.
    super({ allowHalfOpen: false });
    this.socket = socket;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      for (const piece of this.parser.push(chunk)) {
        if (!this.push(piece) && !this.socketPaused) {
          this.socketPaused = true;
          socket.pause();
        }
      }
    });
    socket.on('end', () => this.push(null));
    socket.on('error', (error) => this.destroy(error));
    socket.on('close', () => {
      if (!this.destroyed) this.destroy();
    });
  }

  /** Frames whose :authority was rewritten on this connection. */
  get rewrittenFrames(): number {
    return this.parser.rewrittenFrames;
  }

  // Socket-like surface, for code that looks for it on the connection.
  get remoteAddress(): string | undefined {
    return this.socket.remoteAddress;
  }
  get remotePort(): number | undefined {
    return this.socket.remotePort;
  }
  get remoteFamily(): string | undefined {
    return this.socket.remoteFamily;
  }
  get localAddress(): string | undefined {
    return this.socket.localAddress;
  }
  get localPort(): number | undefined {
    return this.socket.localPort;
  }
  address(): ReturnType<net.Socket['address']> {
    return this.socket.address();
  }
  setNoDelay(noDelay?: boolean): this {
    this.socket.setNoDelay(noDelay);
    return this;
  }
  setKeepAlive(enable?: boolean, initialDelayMs?: number): this {
    this.socket.setKeepAlive(enable, initialDelayMs);
    return this;
  }
  setTimeout(timeoutMs: number, callback?: () => void): this {
    this.socket.setTimeout(timeoutMs, callback);
    return this;
  }

  override _read(): void {
    if (this.socketPaused) {
      this.socketPaused = false;
      this.socket.resume();
    }
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    if (this.socket.write(chunk)) {
      callback();
    } else {
      // If the socket closes instead of draining, 'close' destroys this stream, which fails
      // the pending write.
      this.socket.once('drain', () => callback());
    }
  }

  override _writev(chunks: Array<{ chunk: Buffer }>, callback: (error?: Error | null) => void): void {
    this.socket.cork();
    let flowing = true;
    for (const { chunk } of chunks) flowing = this.socket.write(chunk);
    this.socket.uncork();
    if (flowing) callback();
    else this.socket.once('drain', () => callback());
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.socket.end(() => callback());
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.socket.destroy();
    callback(error);
  }
}

const FRAME_TYPE_SETTINGS = 0x4;
const SETTINGS_INITIAL_WINDOW_SIZE = 0x4;
const NGHTTP2_DEFAULT_WINDOW = 65535;
/** A client's first SETTINGS frame is a handful of 6-byte entries; more is not a client we know. */
const MAX_SNIFFED_SETTINGS_BYTES = 6 * 32;

/**
 * Whether a connection needs AuthorityFixupStream, judged from its first bytes (the 24-byte
 * preface, then the client's first frame, which RFC 9113 says must be SETTINGS):
 * 'wait' until that frame is complete, then 'raw' or 'fixup'.
 *
 * Why bother: the fixup wrapper turns the socket into a JS stream, and every HTTP/2 write
 * then costs a JS round trip and its own syscall — a quarter of a member's CPU under load.
 * Only grpc-go needs the rewrite. nghttp2-based clients (Node's http2: grpc-js, the etcd3
 * package, latchkey-client) always state SETTINGS_INITIAL_WINDOW_SIZE explicitly, as its
 * default 65535; grpc-go never sends a setting at its default value, and sends an authority
 * we must fix. So that setting at that value marks a client that can use the raw socket;
 * anything else keeps the safe path.
 */
export function authorityFixupVerdict(head: Buffer): 'wait' | 'raw' | 'fixup' {
  const frameStart = CLIENT_PREFACE_BYTES;
  if (head.length < frameStart + FRAME_HEADER_BYTES) return 'wait';
  const length = head.readUIntBE(frameStart, 3);
  const type = head[frameStart + 3];
  if (type !== FRAME_TYPE_SETTINGS || length % 6 !== 0 || length > MAX_SNIFFED_SETTINGS_BYTES) return 'fixup';
  const payloadStart = frameStart + FRAME_HEADER_BYTES;
  if (head.length < payloadStart + length) return 'wait';
  for (let at = payloadStart; at < payloadStart + length; at += 6) {
    if (head.readUInt16BE(at) === SETTINGS_INITIAL_WINDOW_SIZE && head.readUInt32BE(at + 2) === NGHTTP2_DEFAULT_WINDOW) return 'raw';
  }
  return 'fixup';
}
