import assert from 'node:assert/strict';
import * as http2 from 'node:http2';
import { after, before, describe, test } from 'node:test';
import { startEtcd, startLatchkey, stopAll, type ServerProcess } from '../support/processes';
import { skipUnlessBinaries } from '../support/skip';

/**
 * What a client's HTTP/2 layer sees of an answer (unary or streaming), besides the messages: the same from
 * latchkey as from real etcd 3.4, for an answer, an etcd error and a refused request. Every
 * header value is a string the client builds and parses per call, so extra ones cost every
 * etcd client CPU, and a text encoded differently reads differently to a client that does not
 * percent-decode.
 */

interface RawAnswer {
  headers: Record<string, unknown>;
  trailers: Record<string, unknown>;
  /** Whether a message came (its bytes differ: revisions, member ids). */
  messageFrames: boolean;
}

function frame(message: Buffer): Buffer {
  const head = Buffer.alloc(5);
  head.writeUInt32BE(message.length, 1);
  return Buffer.concat([head, message]);
}

function rawCall(session: http2.ClientHttp2Session, path: string, message: Buffer): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const stream = session.request({ ':method': 'POST', ':path': path, 'content-type': 'application/grpc', te: 'trailers' });
    const answer: RawAnswer = { headers: {}, trailers: {}, messageFrames: false };
    const timer = setTimeout(() => reject(new Error(`${path}: no answer within 5 s`)), 5000);
    stream.on('response', (headers) => (answer.headers = { ...headers }));
    stream.on('trailers', (trailers) => (answer.trailers = { ...trailers }));
    stream.on('data', () => (answer.messageFrames = true));
    stream.on('error', reject);
    stream.on('close', () => {
      clearTimeout(timer);
      resolve(answer);
    });
    stream.end(frame(message));
  });
}

/** Hand-encoded requests (protobuf field tag, length, bytes), so nothing in between can differ. */
const CALLS: { name: string; path: string; message: Buffer }[] = [
  { name: 'a put that succeeds', path: '/etcdserverpb.KV/Put', message: Buffer.from([0x0a, 0x01, 0x6b, 0x12, 0x01, 0x76]) },
  { name: 'a range that succeeds', path: '/etcdserverpb.KV/Range', message: Buffer.from([0x0a, 0x01, 0x6b]) },
  { name: 'a put without a key (InvalidArgument)', path: '/etcdserverpb.KV/Put', message: Buffer.from([0x12, 0x01, 0x76]) },
  { name: 'a revoke of a lease that does not exist (NotFound)', path: '/etcdserverpb.Lease/LeaseRevoke', message: Buffer.from([0x08, 0x05]) },
  { name: 'a compaction past the current revision (OutOfRange)', path: '/etcdserverpb.KV/Compact', message: Buffer.from([0x08, 0xe8, 0x07]) },
  // Paths no service has: grpc-go's words (grpc-js has its own), e.g. etcd3's bundled 3.5 protos.
  { name: 'an unknown method of a unary service', path: '/etcdserverpb.KV/Nope', message: Buffer.alloc(0) },
  { name: 'an unknown method of a streaming service', path: '/etcdserverpb.Watch/Nope', message: Buffer.alloc(0) },
  { name: 'a 3.5-only method', path: '/etcdserverpb.Maintenance/Downgrade', message: Buffer.alloc(0) },
  { name: 'an unknown service', path: '/etcdserverpb.Nope/Put', message: Buffer.alloc(0) },
  { name: 'a method path with an extra slash', path: '/etcdserverpb.KV/Range/', message: Buffer.alloc(0) },
  { name: 'a path without a method (malformed)', path: '/etcdserverpb.KV', message: Buffer.alloc(0) },
  // Streaming answers: headers before the first message, the status in trailers.
  { name: 'a snapshot (server streaming)', path: '/etcdserverpb.Maintenance/Snapshot', message: Buffer.alloc(0) },
  { name: 'a keepalive of a lease that does not exist, then a half-close (bidi)', path: '/etcdserverpb.Lease/LeaseKeepAlive', message: Buffer.from([0x08, 0x05]) },
];

describe('answer headers and trailers: latchkey vs etcd 3.4', { skip: skipUnlessBinaries('etcd') }, () => {
  let etcd: ServerProcess;
  let latchkey: ServerProcess;
  let etcdSession: http2.ClientHttp2Session;
  let latchkeySession: http2.ClientHttp2Session;

  before(async () => {
    [etcd, latchkey] = await Promise.all([startEtcd({ name: 'headers-ref' }), startLatchkey({ name: 'headers-sut' })]);
    etcdSession = http2.connect(etcd.clientUrl);
    latchkeySession = http2.connect(latchkey.clientUrl);
  });

  after(async () => {
    etcdSession?.close();
    latchkeySession?.close();
    await stopAll();
  });

  for (const call of CALLS) {
    test(`${call.name}: the same headers and trailers`, async () => {
      const expected = await rawCall(etcdSession, call.path, call.message);
      const actual = await rawCall(latchkeySession, call.path, call.message);
      assert.deepEqual(actual, expected);
    });
  }
});
