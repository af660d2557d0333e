import assert from 'node:assert/strict';
import * as net from 'node:net';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { CLIENT_PREFACE, Flag, frame, FrameType, settingsFrame } from '../../src/api/h2/frame';
import { EtcdClient } from '../support/etcd-client';
import { startLatchkey, stopAll, type ServerProcess } from '../support/processes';
import { fuzzRuns, fuzzSeed } from './fuzz-support';
import { within } from '../support/within';

/**
 * Random HTTP/2 frames at a member's client port (latchkey's own framing, src/api/h2): every
 * sequence ends with the connection still answering a PING, or closed by the server; the
 * member never dies, and serves the next client as before.
 */


/** HEADERS for a real unary method, literals without indexing (valid HPACK). */
function requestBlock(path: string): Buffer {
  const literal = (name: string, value: string): Buffer => Buffer.concat([Buffer.from([0x00, name.length]), Buffer.from(name), Buffer.from([value.length]), Buffer.from(value)]);
  return Buffer.concat([Buffer.from([0x83, 0x86]), literal(':path', path), literal(':authority', 'a'), literal('content-type', 'application/grpc')]);
}

const streamIdArb = fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 9 }), fc.constant(0x7fffffff));
const randomFrameArb = fc
  .record({ type: fc.integer({ min: 0, max: 10 }), flags: fc.integer({ min: 0, max: 255 }), stream: streamIdArb, payload: fc.uint8Array({ maxLength: 48 }) })
  .map(({ type, flags, stream, payload }) => frame(type, flags, stream, payload));
const requestArb = fc
  .record({ stream: fc.integer({ min: 1, max: 9 }), path: fc.constantFrom('/etcdserverpb.KV/Range', '/etcdserverpb.KV/Put', '/etcdserverpb.Watch/Watch', '/etcdserverpb.Lease/LeaseKeepAlive', '/x/y'), end: fc.boolean() })
  .map(({ stream, path, end }) => frame(FrameType.HEADERS, Flag.END_HEADERS | (end ? Flag.END_STREAM : 0), stream, requestBlock(path)));
const messageArb = fc
  .record({ stream: fc.integer({ min: 1, max: 9 }), body: fc.uint8Array({ maxLength: 32 }), end: fc.boolean() })
  .map(({ stream, body, end }) => {
    const message = Buffer.alloc(5 + body.length);
    message.writeUInt32BE(body.length, 1);
    message.set(body, 5);
    return frame(FrameType.DATA, end ? Flag.END_STREAM : 0, stream, message);
  });
const rawBytesArb = fc.uint8Array({ minLength: 1, maxLength: 40 }).map((bytes) => Buffer.from(bytes));
const sequenceArb = fc.array(fc.oneof(randomFrameArb, requestArb, messageArb, rawBytesArb), { minLength: 1, maxLength: 12 });

/** Sends `parts` after the preface; resolves 'answered' on our PING's ACK, 'closed' when the server ends the connection. */
async function exchange(port: number, parts: Buffer[]): Promise<'answered' | 'closed'> {
  const socket = net.connect(port, '127.0.0.1');
  socket.on('error', () => {});
  try {
    return await within(
      new Promise<'answered' | 'closed'>((resolve) => {
        const probe = Buffer.from('fuzzping');
        let received = Buffer.alloc(0);
        socket.on('data', (chunk: Buffer) => {
          received = Buffer.concat([received, chunk]);
          if (received.includes(frame(FrameType.PING, Flag.ACK, 0, probe))) resolve('answered');
        });
        socket.once('close', () => resolve('closed'));
        socket.once('connect', () => {
          // The zeros complete any frame whose declared length ran past the sequence (the
          // server rightly waits for the rest of a frame); whatever they then parse as (DATA
          // on stream 0) ends the connection.
          socket.write(Buffer.concat([CLIENT_PREFACE, settingsFrame([]), ...parts, frame(FrameType.PING, 0, 0, probe), Buffer.alloc(16_400)]));
        });
      }),
      5_000,
      'the server answering or closing',
    );
  } finally {
    socket.destroy();
  }
}

describe('fuzz: random HTTP/2 frames at the client port', { timeout: 180_000 }, () => {
  let server: ServerProcess;
  let client: EtcdClient;

  before(async () => {
    server = await startLatchkey();
    client = new EtcdClient(server.endpoint);
  });

  after(async () => {
    client?.close();
    await stopAll();
  });

  test('every sequence is answered or refused with the connection, and the member serves on', async () => {
    const port = Number(new URL(server.clientUrl).port);
    const outcomes = { answered: 0, closed: 0 };
    await fc.assert(
      fc.asyncProperty(sequenceArb, async (parts) => {
        outcomes[await exchange(port, parts)]++;
        assert.equal(server.exited, false, `member died\n${server.output().slice(-3000)}`);
      }),
      { numRuns: fuzzRuns(150), seed: fuzzSeed('http2-frames') },
    );
    // Both ways out were taken: the generator reaches the error paths and the working ones.
    assert.ok(outcomes.answered > 0 && outcomes.closed > 0, JSON.stringify(outcomes));
    await client.put({ key: Buffer.from('after-fuzz'), value: Buffer.from('v') });
    const got = await client.range({ key: Buffer.from('after-fuzz') });
    assert.equal(Buffer.from(got.kvs[0]!.value as Uint8Array).toString(), 'v');
  });
});
