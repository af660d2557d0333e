import * as grpc from '@grpc/grpc-js';
import assert from 'node:assert/strict';
import * as http2 from 'node:http2';
import * as net from 'node:net';
import { after, before, describe, test } from 'node:test';
import * as zlib from 'node:zlib';
import { DirectUnaryRouter } from '../../src/api/direct-unary-router';
import { Http2Connection } from '../../src/api/h2/connection';
import { silentLogger } from '../../src/log';
import { startServer, unary, type Running } from './harness';

const logger = silentLogger();

/**
 * The direct unary path (direct-unary-call.ts) must answer as grpc-js does, in grpc-go's
 * (real etcd's) headers: the same request bytes sent over raw HTTP/2 to a grpc-js server
 * with the router installed and to one without get the same status, message bytes and
 * metadata; the direct path's headers and trailers are grpc-js' as grpc-go would send them
 * (etcdShaped). test/compat/response-headers.test.ts holds them against real etcd.
 */

const FRAME_LIMIT = 1000;
const passThrough = (bytes: Buffer): Buffer => bytes;

/** Toy handlers covering every way a unary handler answers. */
function toyHandler(call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>): void {
  const request = call.request.toString();
  if (request === 'fail') {
    const metadata = new grpc.Metadata();
    metadata.set('x-extra', 'value');
    metadata.set('x-extra-bin', Buffer.from([0, 1, 2, 255]));
    callback({ code: grpc.status.FAILED_PRECONDITION, details: 'etcdserver: ünï code / 100% ?', metadata });
  } else if (request === 'fail-plain') {
    callback(new Error('plain failure'), null);
  } else if (request === 'throw') {
    throw new Error('handler threw');
  } else if (request === 'trailer') {
    const trailer = new grpc.Metadata();
    trailer.set('x-trailer', 't');
    callback(null, Buffer.from('with trailer'), trailer);
  } else if (request === 'unencodable') {
    // Answered later, as member handlers answer: encodeURI throws on a lone surrogate.
    setImmediate(() => callback({ code: grpc.status.FAILED_PRECONDITION, details: 'bad \uD800 text' }));
  } else if (request === 'slow') {
    // Never answers: only the call's deadline ends it.
  } else if (request === 'metadata') {
    callback(null, Buffer.from(JSON.stringify({ token: call.metadata.get('token'), timeout: call.metadata.get('grpc-timeout'), peer: call.getPeer() !== 'unknown' })));
  } else {
    callback(null, Buffer.from(`echo ${request}`));
  }
}

const definition: grpc.ServiceDefinition = {
  Call: {
    path: '/toy.Toy/Call',
    requestStream: false,
    responseStream: false,
    requestSerialize: passThrough,
    responseSerialize: passThrough,
    responseDeserialize: passThrough,
    requestDeserialize: (bytes: Buffer) => {
      if (bytes.toString() === 'undecodable') throw new Error('cannot decode');
      return bytes;
    },
  },
};

interface ToyServer {
  port: number;
  router: DirectUnaryRouter | undefined;
  close(): void;
}

/** grpc-js alone, grpc-js with the router on its node:http2 streams, or our own framing. */
type ToyServerKind = 'grpc-js' | 'direct' | 'framed';

async function toyServer(kind: ToyServerKind): Promise<ToyServer> {
  const server = new grpc.Server({ 'grpc.enable_channelz': 0, 'grpc.max_receive_message_length': FRAME_LIMIT });
  const implementation = { Call: toyHandler };
  server.addService(definition, implementation);
  const injector = server.createConnectionInjector(grpc.ServerCredentials.createInsecure());
  let router: DirectUnaryRouter | undefined;
  if (kind !== 'grpc-js') {
    router = new DirectUnaryRouter(FRAME_LIMIT);
    router.addService(definition, implementation);
    assert.equal(router.install(server), true, 'the router finds the injector\'s HTTP/2 server');
  }
  const framedRouter = router;
  const limits = { maxConcurrentStreams: 100, keepaliveIntervalMs: 3_600_000, keepaliveTimeoutMs: 20_000 };
  const listener = net.createServer((socket) =>
    kind === 'framed' ? new Http2Connection(socket, (stream, headers) => framedRouter!.serveFramed(stream, headers), logger, limits) : injector.injectConnection(socket),
  );
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
  return {
    port: (listener.address() as net.AddressInfo).port,
    router,
    close: () => {
      listener.close();
      injector.destroy();
      server.forceShutdown();
    },
  };
}

function frame(message: Buffer, flag = 0): Buffer {
  const head = Buffer.alloc(5);
  head[0] = flag;
  head.writeUInt32BE(message.length, 1);
  return Buffer.concat([head, message]);
}

interface RawRequest {
  name: string;
  path?: string;
  headers?: http2.OutgoingHttpHeaders;
  body: Buffer;
  /** Whether the direct path should take it (the rest go to grpc-js). */
  direct: boolean;
  /** Sent in this many writes (default one). */
  pieces?: number;
}

interface RawAnswer {
  headers: Record<string, unknown>;
  body: string;
  trailers: Record<string, unknown>;
  /** Whether a date header came (grpc-js sends one, grpc-go does not). */
  dated: boolean;
}

function rawRequest(session: http2.ClientHttp2Session, request: RawRequest): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const stream = session.request({
      ':method': 'POST',
      ':path': request.path ?? '/toy.Toy/Call',
      'content-type': 'application/grpc',
      te: 'trailers',
      token: 'secret',
      ...request.headers,
    });
    const answer: RawAnswer = { headers: {}, body: '', trailers: {}, dated: false };
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => reject(new Error(`${request.name}: no answer within 5 s`)), 5000);
    stream.on('response', (headers) => {
      answer.dated = headers.date !== undefined;
      answer.headers = withoutDate(headers);
    });
    stream.on('trailers', (trailers) => (answer.trailers = withoutDate(trailers)));
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('error', () => {});
    stream.on('close', () => {
      clearTimeout(timer);
      answer.body = Buffer.concat(chunks).toString('hex');
      resolve(answer);
    });
    const size = Math.max(1, Math.ceil(request.body.length / (request.pieces ?? 1)));
    for (let at = 0; at < request.body.length; at += size) stream.write(request.body.subarray(at, at + size));
    stream.end();
  });
}

function withoutDate(headers: http2.IncomingHttpHeaders): Record<string, unknown> {
  const { date: _date, ...rest } = headers;
  return { ...rest };
}

/** grpc-go's percent-encoding of grpc-message: UTF-8 bytes outside printable ASCII, and '%'. */
function goEncoded(text: string): string {
  return [...Buffer.from(text, 'utf8')].map((b) => (b >= 0x20 && b <= 0x7e && b !== 0x25 ? String.fromCharCode(b) : `%${b.toString(16).toUpperCase().padStart(2, '0')}`)).join('');
}

/**
 * grpc-js' answer as grpc-go (real etcd) shapes it: content-type application/grpc, no
 * grpc-accept-encoding, grpc-encoding or date, grpc-message '' on success and encoded the
 * grpc-go way on errors. Status codes, texts, message bytes and metadata stay grpc-js'.
 */
function etcdShaped(answer: RawAnswer): RawAnswer {
  const reshape = (fields: Record<string, unknown>): Record<string, unknown> => {
    const { 'grpc-accept-encoding': _accept, 'grpc-encoding': _encoding, ...rest } = fields;
    if (rest['content-type'] !== undefined) rest['content-type'] = 'application/grpc';
    if (typeof rest['grpc-message'] === 'string') {
      rest['grpc-message'] = rest['grpc-status'] === '0' ? '' : goEncoded(decodeURIComponent(rest['grpc-message']));
    }
    return rest;
  };
  const trailers = Object.keys(answer.trailers).length === 0 ? answer.trailers : reshape(answer.trailers);
  return { headers: reshape(answer.headers), body: answer.body, trailers, dated: false };
}

const REQUESTS: RawRequest[] = [
  { name: 'an ordinary call', body: frame(Buffer.from('hello')), direct: true },
  { name: 'an empty message', body: frame(Buffer.alloc(0)), direct: true },
  { name: 'an error with details to escape and metadata', body: frame(Buffer.from('fail')), direct: true },
  { name: 'a plain Error', body: frame(Buffer.from('fail-plain')), direct: true },
  { name: 'a handler that throws', body: frame(Buffer.from('throw')), direct: true },
  { name: 'an answer with trailing metadata', body: frame(Buffer.from('trailer')), direct: true },
  { name: 'request metadata and peer', body: frame(Buffer.from('metadata')), headers: { 'grpc-timeout': '5S' }, direct: true },
  { name: 'no message', body: Buffer.alloc(0), direct: true },
  { name: 'two messages', body: Buffer.concat([frame(Buffer.from('a')), frame(Buffer.from('b'))]), direct: true },
  { name: 'a partial frame', body: frame(Buffer.from('hello')).subarray(0, 7), direct: true },
  { name: 'the compressed flag with identity encoding', body: frame(Buffer.from('flagged'), 1), direct: true },
  { name: 'an undecodable request', body: frame(Buffer.from('undecodable')), direct: true },
  { name: 'a message over the frame limit', body: frame(Buffer.alloc(FRAME_LIMIT + 1, 7)), direct: true },
  { name: 'a second message over the frame limit', body: Buffer.concat([frame(Buffer.from('a')), frame(Buffer.alloc(FRAME_LIMIT + 1, 7))]), direct: true },
  { name: 'a first message just under the limit, sent in pieces', body: frame(Buffer.alloc(FRAME_LIMIT - 1, 7)), direct: true, pieces: 7 },
  { name: 'a deadline that passes', body: frame(Buffer.from('slow')), headers: { 'grpc-timeout': '50m' }, direct: true },
  { name: 'a gzip-compressed request', body: frame(zlib.gzipSync(Buffer.from('zipped')), 1), headers: { 'grpc-encoding': 'gzip' }, direct: true },
  { name: 'a deflate-compressed request', body: frame(zlib.deflateSync(Buffer.from('deflated')), 1), headers: { 'grpc-encoding': 'deflate' }, direct: true },
  { name: 'a request that decompresses past the limit', body: frame(zlib.gzipSync(Buffer.alloc(FRAME_LIMIT + 1, 1)), 1), headers: { 'grpc-encoding': 'gzip' }, direct: true },
  { name: 'a corrupt gzip request', body: frame(Buffer.from('not gzip at all'), 1), headers: { 'grpc-encoding': 'gzip' }, direct: true },
  { name: 'an unsupported encoding', body: frame(Buffer.from('x'), 1), headers: { 'grpc-encoding': 'snappy' }, direct: true },
  { name: 'an unreadable grpc-timeout', body: frame(Buffer.from('x')), headers: { 'grpc-timeout': 'soon' }, direct: true },
  { name: 'a content type that is not gRPC', body: frame(Buffer.from('x')), headers: { 'content-type': 'text/plain' }, direct: false },
];

/** Paths no service has: grpc-go's (etcd's) status for each, where grpc-js says "does not implement". */
const UNKNOWN_PATHS: { path: string; status: string; message: string }[] = [
  { path: '/toy.Toy/Missing', status: '12', message: 'unknown method Missing for service toy.Toy' },
  { path: '/toy.Other/Call', status: '12', message: 'unknown service toy.Other' },
  { path: '/toy.Toy', status: '8', message: 'malformed method name: "/toy.Toy"' },
];

describe('direct unary path against grpc-js', () => {
  let viaGrpcJs: ToyServer;
  let direct: ToyServer;
  let framed: ToyServer;
  let grpcJsSession: http2.ClientHttp2Session;
  let directSession: http2.ClientHttp2Session;
  let framedSession: http2.ClientHttp2Session;

  before(async () => {
    viaGrpcJs = await toyServer('grpc-js');
    direct = await toyServer('direct');
    framed = await toyServer('framed');
    grpcJsSession = http2.connect(`http://127.0.0.1:${viaGrpcJs.port}`);
    directSession = http2.connect(`http://127.0.0.1:${direct.port}`);
    framedSession = http2.connect(`http://127.0.0.1:${framed.port}`);
  });

  after(() => {
    grpcJsSession.close();
    directSession.close();
    framedSession.close();
    viaGrpcJs.close();
    direct.close();
    framed.close();
  });

  for (const request of REQUESTS) {
    test(`${request.name}: the same status, message and metadata${request.direct ? ', in grpc-go headers' : ''}`, async () => {
      const before = direct.router!.directCalls;
      const viaGrpcJs = await rawRequest(grpcJsSession, request);
      const actual = await rawRequest(directSession, request);
      assert.deepEqual(actual, request.direct ? etcdShaped(viaGrpcJs) : viaGrpcJs);
      assert.equal(direct.router!.directCalls - before, request.direct ? 1 : 0, 'taken by the direct path');
      // Our own framing answers everything itself, always in grpc-go's headers.
      assert.deepEqual(await rawRequest(framedSession, request), etcdShaped(viaGrpcJs), 'own framing');
    });
  }

  for (const unknown of UNKNOWN_PATHS) {
    test(`${unknown.path}: grpc-go's status in grpc-go headers, where grpc-js has its own text`, async () => {
      const request: RawRequest = { name: unknown.path, path: unknown.path, body: frame(Buffer.from('x')), direct: false };
      const viaGrpcJs = await rawRequest(grpcJsSession, request);
      assert.match(String(viaGrpcJs.headers['grpc-message']), /does not implement/);
      const before = direct.router!.directCalls;
      const actual = await rawRequest(directSession, request);
      assert.deepEqual(await rawRequest(framedSession, request), actual, 'own framing');
      assert.deepEqual(Object.fromEntries(Object.entries(actual.headers)), { ':status': 200, 'content-type': 'application/grpc', 'grpc-status': unknown.status, 'grpc-message': unknown.message });
      assert.deepEqual(actual.trailers, {});
      assert.equal(actual.body, '');
      assert.equal(actual.dated, false);
      assert.equal(direct.router!.directCalls, before, 'not counted as a direct call');
    });
  }

  test('a status text with a lone surrogate goes out with U+FFFD in its place, and the server keeps serving', async () => {
    // grpc-js itself throws from a timer there (encodeURI) and ends the process.
    const answer = await rawRequest(directSession, { name: 'unencodable', body: frame(Buffer.from('unencodable')), direct: true });
    assert.equal(answer.headers['grpc-status'], String(grpc.status.FAILED_PRECONDITION));
    assert.equal(answer.headers['grpc-message'], 'bad %EF%BF%BD text');
    const next = await rawRequest(directSession, { name: 'after', body: frame(Buffer.from('again')), direct: true });
    assert.equal(next.trailers['grpc-status'], '0');
  });

  test('a grpc-js client sees the same answers and statuses through both', async () => {
    const call = (port: number, payload: string, deadlineMs?: number): Promise<{ code: number; details: string; response?: string }> =>
      new Promise((resolve) => {
        const client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
        const options = deadlineMs === undefined ? {} : { deadline: Date.now() + deadlineMs };
        client.makeUnaryRequest('/toy.Toy/Call', passThrough, passThrough, Buffer.from(payload), options, (err, response) => {
          client.close();
          resolve(err ? { code: err.code, details: err.details } : { code: 0, details: '', response: response?.toString() });
        });
      });
    for (const payload of ['hello', 'fail', 'fail-plain', 'throw', 'trailer', 'undecodable']) {
      const expected = await call(viaGrpcJs.port, payload);
      assert.deepEqual(await call(direct.port, payload), expected, payload);
      assert.deepEqual(await call(framed.port, payload), expected, `${payload} (own framing)`);
    }
    // The client's own deadline fires too (with its own text); the server's status is checked raw above.
    assert.equal((await call(direct.port, 'slow', 100)).code, grpc.status.DEADLINE_EXCEEDED);
    assert.equal((await call(framed.port, 'slow', 100)).code, grpc.status.DEADLINE_EXCEEDED);
  });
});

describe('direct unary path in the client server', () => {
  let run: Running;
  before(async () => {
    run = await startServer();
  });
  after(async () => {
    await run.stop();
  });

  test('KV calls are answered by the direct path, with the request context grpc-js gave them', async () => {
    const before = run.server.directUnary.directCalls;
    const metadata = new grpc.Metadata();
    metadata.set('hasleader', 'true');
    await unary(run.clients.kv, 'Range', { key: Buffer.from('k') }, metadata);
    assert.equal(run.server.directUnary.directCalls, before + 1);
    const recorded = run.member.callsTo('range').at(-1)!;
    assert.equal(recorded.ctx?.requireLeader, true, 'metadata reaches the handler');
  });
});
