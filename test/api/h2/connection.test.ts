import assert from 'node:assert/strict';
import { once } from 'node:events';
import * as http2 from 'node:http2';
import * as net from 'node:net';
import { after, describe, test } from 'node:test';
import { Http2Connection, type ConnectionOptions } from '../../../src/api/h2/connection';
import { CLIENT_PREFACE, ErrorCode, Flag, frame, FrameType, settingsFrame } from '../../../src/api/h2/frame';
import type { FramedStream } from '../../../src/api/h2/framed-stream';
import { silentLogger } from '../../../src/log';

/**
 * Our own HTTP/2 framing (src/api/h2) against node:http2's client (nghttp2) and raw frames:
 * flow control both ways, header compression state across requests, resets, pings,
 * keepalive, graceful shutdown and protocol errors.
 */

const DEFAULTS: ConnectionOptions = { maxConcurrentStreams: 100, keepaliveIntervalMs: 3_600_000, keepaliveTimeoutMs: 20_000 };

interface Served {
  port: number;
  connections: Http2Connection[];
  close(): void;
}

const servers: Served[] = [];
after(() => {
  for (const server of servers) server.close();
});

async function serve(onStream: (stream: FramedStream, headers: http2.IncomingHttpHeaders) => void, options: Partial<ConnectionOptions> = {}): Promise<Served> {
  const connections: Http2Connection[] = [];
  const listener = net.createServer((socket) => connections.push(new Http2Connection(socket, onStream, silentLogger(), { ...DEFAULTS, ...options })));
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
  const served: Served = {
    port: (listener.address() as net.AddressInfo).port,
    connections,
    close: () => {
      for (const connection of connections) connection.destroy();
      listener.close();
    },
  };
  servers.push(served);
  return served;
}

/** Echoes the request body's length and first/last octets, then `answerBytes` octets of 7s and trailers. */
function echo(answerBytes: number) {
  return (stream: FramedStream, headers: http2.IncomingHttpHeaders): void => {
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(Buffer.from(chunk)));
    stream.once('end', () => {
      const body = Buffer.concat(chunks);
      stream.respond({ ':status': 200, 'x-received': String(body.length), 'x-custom': String(headers['x-custom'] ?? '') }, { waitForTrailers: true });
      stream.once('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0', 'x-last': String(body.at(-1) ?? -1) }));
      stream.end(Buffer.alloc(answerBytes, 7));
    });
  };
}

interface Answer {
  headers: http2.IncomingHttpHeaders;
  trailers: http2.IncomingHttpHeaders;
  body: Buffer;
}

function request(session: http2.ClientHttp2Session, body: Buffer, headers: http2.OutgoingHttpHeaders = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const stream = session.request({ ':method': 'POST', ':path': '/x', ...headers });
    const answer: Answer = { headers: {}, trailers: {}, body: Buffer.alloc(0) };
    const chunks: Buffer[] = [];
    stream.on('response', (received) => (answer.headers = received));
    stream.on('trailers', (received) => (answer.trailers = received));
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('error', reject);
    stream.on('close', () => {
      answer.body = Buffer.concat(chunks);
      resolve(answer);
    });
    stream.end(body);
  });
}

/** A raw client socket that has sent the preface and empty SETTINGS; collects the frames it gets. */
interface RawFrame {
  type: number;
  flags: number;
  stream: number;
  payload: Buffer;
}

interface RawClient {
  socket: net.Socket;
  frames: RawFrame[];
  closed: Promise<void>;
  /** The first frame (received so far or later) that matches; rejects after 5 s. */
  until(matches: (frame: RawFrame) => boolean): Promise<RawFrame>;
  /** The first frame of `type`. */
  frameOf(type: number): Promise<RawFrame>;
}

async function rawClient(port: number): Promise<RawClient> {
  const socket = net.connect(port, '127.0.0.1');
  await once(socket, 'connect');
  const frames: RawFrame[] = [];
  const waiting: Array<{ matches: (frame: RawFrame) => boolean; resolve: (frame: RawFrame) => void }> = [];
  let pending = Buffer.alloc(0);
  socket.on('data', (chunk: Buffer) => {
    pending = Buffer.concat([pending, chunk]);
    while (pending.length >= 9) {
      const length = pending.readUIntBE(0, 3);
      if (pending.length < 9 + length) break;
      const received = { type: pending[3]!, flags: pending[4]!, stream: pending.readUInt32BE(5) & 0x7fffffff, payload: pending.subarray(9, 9 + length) };
      frames.push(received);
      for (const waiter of waiting.filter((w) => w.matches(received))) waiter.resolve(received);
      pending = pending.subarray(9 + length);
    }
  });
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  socket.write(Buffer.concat([CLIENT_PREFACE, settingsFrame([])]));
  const until = (matches: (frame: RawFrame) => boolean): Promise<RawFrame> => {
    const seen = frames.find(matches);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no such frame within 5 s')), 5000);
      waiting.push({ matches, resolve: (got) => (clearTimeout(timer), resolve(got)) });
    });
  };
  return { socket, frames, closed, until, frameOf: (type) => until((f) => f.type === type) };
}

/** A HEADERS block for POST `path` over http, all literals without indexing (no table state). */
function requestBlock(path = '/x'): Buffer {
  const literal = (name: string, value: string): Buffer => Buffer.concat([Buffer.from([0x00, name.length]), Buffer.from(name), Buffer.from([value.length]), Buffer.from(value)]);
  return Buffer.concat([Buffer.from([0x83, 0x86]), literal(':path', path), literal(':authority', 'a')]);
}

describe('own HTTP/2 framing', () => {
  test('a 1 MiB answer crosses the client\'s 64 KiB windows, and its trailers come after all of it', async () => {
    const served = await serve(echo(1 << 20));
    const session = http2.connect(`http://127.0.0.1:${served.port}`);
    const answer = await request(session, Buffer.from('hi'));
    assert.equal(answer.body.length, 1 << 20);
    assert.ok(answer.body.every((octet) => octet === 7));
    assert.equal(answer.headers['x-received'], '2');
    assert.equal(answer.trailers['grpc-status'], '0');
    session.close();
  });

  test('a 3 MiB request is read whole past our 1 MiB stream window', async () => {
    const served = await serve(echo(0));
    const session = http2.connect(`http://127.0.0.1:${served.port}`);
    const body = Buffer.alloc(3 << 20, 1);
    body[body.length - 1] = 9;
    const answer = await request(session, body);
    assert.equal(answer.headers['x-received'], String(3 << 20));
    assert.equal(answer.trailers['x-last'], '9');
    session.close();
  });

  test('header values survive the client\'s dynamic table across 200 requests, with evictions', async () => {
    const served = await serve(echo(1));
    const session = http2.connect(`http://127.0.0.1:${served.port}`);
    for (let index = 0; index < 200; index++) {
      // Values repeat (indexed) and change (new entries evict old ones from a 4 KiB table).
      const value = `value-${index % 7}-${'x'.repeat(index % 50)}`;
      const answer = await request(session, Buffer.from('a'), { 'x-custom': value });
      assert.equal(answer.headers['x-custom'], value, `request ${index}`);
    }
    session.close();
  });

  test('a client reset closes the server stream, and the connection serves on', async () => {
    // Wrapped in an object: a promise resolved with a promise would wait for it.
    let arrived: (server: { closed: Promise<void> }) => void = () => {};
    const hangingArrived = new Promise<{ closed: Promise<void> }>((resolve) => (arrived = resolve));
    const served = await serve((stream, headers) => {
      if (headers[':path'] === '/hang') {
        arrived({ closed: new Promise((resolve) => stream.once('close', () => resolve())) });
        return;
      }
      echo(3)(stream, headers);
    });
    const session = http2.connect(`http://127.0.0.1:${served.port}`);
    const hanging = session.request({ ':method': 'POST', ':path': '/hang' });
    hanging.on('error', () => {});
    const server = await hangingArrived;
    hanging.close(http2.constants.NGHTTP2_CANCEL);
    await server.closed;
    assert.equal(served.connections[0]!.openStreams, 0);
    assert.equal((await request(session, Buffer.from('x'))).body.length, 3);
    session.close();
  });

  test('pings are answered, and our keepalive ping closes a connection that does not answer', async () => {
    const served = await serve(echo(0), { keepaliveIntervalMs: 50, keepaliveTimeoutMs: 100 });
    const session = http2.connect(`http://127.0.0.1:${served.port}`);
    await once(session, 'connect');
    await new Promise<void>((resolve, reject) => session.ping((error) => (error ? reject(error) : resolve())));
    // node:http2 answers our pings itself: the connection outlives several ping timeouts.
    for (let round = 0; round < 4; round++) {
      await new Promise<void>((resolve) => served.connections[0]!.socket.once('data', () => resolve()));
      assert.equal((await request(session, Buffer.from('x'))).headers[':status'], 200);
    }
    session.close();
    const raw = await rawClient(served.port);
    const ping = await raw.frameOf(FrameType.PING);
    assert.equal(ping.flags & Flag.ACK, 0, 'we pinged');
    await raw.closed;
  });

  test('shutdown sends GOAWAY, lets the open stream finish and ends the connection', async () => {
    let arrived: (release: () => void) => void = () => {};
    const slowArrived = new Promise<() => void>((resolve) => (arrived = resolve));
    const served = await serve((stream, headers) => {
      if (headers[':path'] === '/slow') {
        // The request has ended by the time it is released: answer without waiting for 'end'.
        arrived(() => {
          stream.respond({ ':status': 200 }, { waitForTrailers: true });
          stream.once('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
          stream.end(Buffer.alloc(5, 7));
        });
        return;
      }
      echo(1)(stream, headers);
    });
    const session = http2.connect(`http://127.0.0.1:${served.port}`);
    const goaway = once(session, 'goaway');
    const slow = new Promise<Answer>((resolve, reject) => {
      const stream = session.request({ ':method': 'POST', ':path': '/slow' });
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('error', reject);
      stream.on('close', () => resolve({ headers: {}, trailers: {}, body: Buffer.concat(chunks) }));
      stream.end();
    });
    const release = await slowArrived;
    served.connections[0]!.shutdown();
    const [code] = (await goaway) as [number];
    assert.equal(code, http2.constants.NGHTTP2_NO_ERROR);
    // The request was read before the GOAWAY: its stream data still arrives in full.
    release();
    assert.equal((await slow).body.length, 5);
    await once(session, 'close');
  });

  test('protocol errors end the connection with GOAWAY and the right code', async () => {
    const served = await serve(echo(0));
    const cases: Array<[string, Buffer, number]> = [
      ['DATA on stream 0', frame(FrameType.DATA, 0, 0, Buffer.from('x')), ErrorCode.PROTOCOL_ERROR],
      ['DATA on an idle stream', frame(FrameType.DATA, 0, 5, Buffer.from('x')), ErrorCode.PROTOCOL_ERROR],
      ['a header block that does not decode', frame(FrameType.HEADERS, Flag.END_HEADERS, 1, Buffer.from([0x80])), ErrorCode.COMPRESSION_ERROR],
      ['an even stream id', frame(FrameType.HEADERS, Flag.END_HEADERS, 2, requestBlock()), ErrorCode.PROTOCOL_ERROR],
      ['a frame over 16 KiB', frame(FrameType.DATA, 0, 1, Buffer.alloc(16_385)), ErrorCode.FRAME_SIZE_ERROR],
      ['a PING of 7 octets', frame(FrameType.PING, 0, 0, Buffer.alloc(7)), ErrorCode.PROTOCOL_ERROR],
      ['CONTINUATION out of the blue', frame(FrameType.CONTINUATION, Flag.END_HEADERS, 1, Buffer.alloc(0)), ErrorCode.PROTOCOL_ERROR],
    ];
    for (const [name, bytes, code] of cases) {
      const raw = await rawClient(served.port);
      raw.socket.write(bytes);
      await raw.closed;
      const goaway = raw.frames.find((f) => f.type === FrameType.GOAWAY);
      assert.ok(goaway !== undefined, `${name}: a GOAWAY`);
      assert.equal(goaway.payload.readUInt32BE(4), code, name);
    }
  });

  test('a stream whose window is shut holds back only its own data; its trailers wait for the rest', async () => {
    const served = await serve((stream, headers) => echo(headers[':path'] === '/big' ? 100 : 5)(stream, headers));
    const raw = await rawClient(served.port);
    // Every stream may receive 10 octets until the client opens its window.
    raw.socket.write(settingsFrame([[0x4, 10]]));
    raw.socket.write(frame(FrameType.HEADERS, Flag.END_HEADERS | Flag.END_STREAM, 1, requestBlock('/big')));
    raw.socket.write(frame(FrameType.HEADERS, Flag.END_HEADERS | Flag.END_STREAM, 3, requestBlock('/small')));
    const endOf = (stream: number): Promise<RawFrame> => raw.until((f) => f.stream === stream && f.type === FrameType.HEADERS && (f.flags & Flag.END_STREAM) !== 0);
    await endOf(3);
    const dataOf = (stream: number): number => raw.frames.filter((f) => f.stream === stream && f.type === FrameType.DATA).reduce((sum, f) => sum + f.payload.length, 0);
    assert.equal(dataOf(3), 5, 'the small answer is complete');
    assert.equal(dataOf(1), 10, 'the big one stopped at its window');
    assert.ok(!raw.frames.some((f) => f.stream === 1 && f.type === FrameType.HEADERS && (f.flags & Flag.END_STREAM) !== 0), 'no trailers before the data');
    const windowUpdate = Buffer.alloc(4);
    windowUpdate.writeUInt32BE(90);
    raw.socket.write(frame(FrameType.WINDOW_UPDATE, 0, 1, windowUpdate));
    await endOf(1);
    assert.equal(dataOf(1), 100);
    raw.socket.destroy();
  });

  test('streams past SETTINGS_MAX_CONCURRENT_STREAMS are refused with REFUSED_STREAM', async () => {
    const served = await serve(() => {}, { maxConcurrentStreams: 1 });
    const raw = await rawClient(served.port);
    raw.socket.write(Buffer.concat([frame(FrameType.HEADERS, Flag.END_HEADERS, 1, requestBlock()), frame(FrameType.HEADERS, Flag.END_HEADERS, 3, requestBlock())]));
    const reset = await raw.frameOf(FrameType.RST_STREAM);
    assert.equal(reset.stream, 3);
    assert.equal(reset.payload.readUInt32BE(0), ErrorCode.REFUSED_STREAM);
    assert.equal(served.connections[0]!.openStreams, 1);
    raw.socket.destroy();
  });

  test('after shutdown a new stream is refused with REFUSED_STREAM, and the GOAWAY names the last one taken', async () => {
    const served = await serve(() => {});
    const raw = await rawClient(served.port);
    raw.socket.write(frame(FrameType.HEADERS, Flag.END_HEADERS, 1, requestBlock()));
    await raw.frameOf(FrameType.SETTINGS);
    // The server has read stream 1 once it answers a PING sent after it.
    raw.socket.write(frame(FrameType.PING, 0, 0, Buffer.alloc(8)));
    await raw.frameOf(FrameType.PING);
    served.connections[0]!.shutdown();
    const goaway = await raw.frameOf(FrameType.GOAWAY);
    assert.equal(goaway.payload.readUInt32BE(0), 1, 'last stream id');
    assert.equal(goaway.payload.readUInt32BE(4), ErrorCode.NO_ERROR);
    raw.socket.write(frame(FrameType.HEADERS, Flag.END_HEADERS, 3, requestBlock()));
    const reset = await raw.frameOf(FrameType.RST_STREAM);
    assert.equal(reset.stream, 3);
    assert.equal(reset.payload.readUInt32BE(0), ErrorCode.REFUSED_STREAM);
    raw.socket.destroy();
  });
});
