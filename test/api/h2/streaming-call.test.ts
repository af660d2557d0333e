import * as grpc from '@grpc/grpc-js';
import assert from 'node:assert/strict';
import * as net from 'node:net';
import { after, before, describe, test } from 'node:test';
import { DirectUnaryRouter } from '../../../src/api/direct-unary-router';
import { Http2Connection } from '../../../src/api/h2/connection';
import { silentLogger } from '../../../src/log';

/**
 * Streaming calls on our own framing (FramedStreamingCall) against the same handlers on
 * grpc-js: a grpc-js client must see the same messages, statuses and cancellations.
 */

const passThrough = (bytes: Buffer): Buffer => bytes;
const LIMIT = 1 << 20;

const definition: grpc.ServiceDefinition = {
  Chat: { path: '/toy.Stream/Chat', requestStream: true, responseStream: true, requestSerialize: passThrough, requestDeserialize: passThrough, responseSerialize: passThrough, responseDeserialize: passThrough },
  Feed: { path: '/toy.Stream/Feed', requestStream: false, responseStream: true, requestSerialize: passThrough, requestDeserialize: passThrough, responseSerialize: passThrough, responseDeserialize: passThrough },
};

/** Which server-side events a test looks for. */
const seen = { cancelled: 0, drains: 0 };

const implementation = {
  /** Echoes each message; "fail" ends with an error status, "end" with OK; half-close ends too. */
  Chat: (call: grpc.ServerDuplexStream<Buffer, Buffer>) => {
    call.on('cancelled', () => seen.cancelled++);
    call.on('data', (message: Buffer) => {
      const text = message.toString();
      if (text === 'fail') call.emit('error', { code: grpc.status.FAILED_PRECONDITION, details: 'etcdserver: ünï failure' });
      else if (text === 'end') call.end();
      else call.write(Buffer.from(`echo ${text}`));
    });
    call.on('end', () => call.end());
  },
  /** Sends the requested number of 64 KiB messages, respecting backpressure. */
  Feed: (call: grpc.ServerWritableStream<Buffer, Buffer>) => {
    let left = Number(call.request.toString());
    const pump = (): void => {
      while (left > 0) {
        left--;
        if (!call.write(Buffer.alloc(64 * 1024, left % 251))) {
          seen.drains++;
          call.once('drain', pump);
          return;
        }
      }
      call.end();
    };
    pump();
  },
};

interface Server {
  port: number;
  close(): void;
}

async function server(framed: boolean): Promise<Server> {
  const grpcServer = new grpc.Server({ 'grpc.enable_channelz': 0, 'grpc.max_receive_message_length': LIMIT });
  grpcServer.addService(definition, implementation);
  const injector = grpcServer.createConnectionInjector(grpc.ServerCredentials.createInsecure());
  const router = new DirectUnaryRouter(LIMIT);
  router.addService(definition, implementation);
  const limits = { maxConcurrentStreams: 100, keepaliveIntervalMs: 3_600_000, keepaliveTimeoutMs: 20_000 };
  const connections: Http2Connection[] = [];
  const listener = net.createServer((socket) => {
    if (framed) connections.push(new Http2Connection(socket, (stream, headers) => router.serveFramed(stream, headers), silentLogger(), limits));
    else injector.injectConnection(socket);
  });
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
  return {
    port: (listener.address() as net.AddressInfo).port,
    close: () => {
      for (const connection of connections) connection.destroy();
      listener.close();
      injector.destroy();
      grpcServer.forceShutdown();
    },
  };
}

interface Outcome {
  messages: string[];
  code: number;
  details: string;
}

function chat(client: grpc.Client, send: string[], halfClose: boolean): Promise<Outcome> {
  return new Promise((resolve) => {
    const call = client.makeBidiStreamRequest('/toy.Stream/Chat', passThrough, passThrough);
    const messages: string[] = [];
    call.on('data', (message: Buffer) => messages.push(message.toString()));
    call.on('error', () => {});
    call.on('status', (status: grpc.StatusObject) => resolve({ messages, code: status.code, details: status.details }));
    for (const text of send) call.write(Buffer.from(text));
    if (halfClose) call.end();
  });
}

function feed(client: grpc.Client, count: number): Promise<{ bytes: number; checks: boolean; code: number }> {
  return new Promise((resolve) => {
    const call = client.makeServerStreamRequest('/toy.Stream/Feed', passThrough, passThrough, Buffer.from(String(count)));
    let bytes = 0;
    let index = count;
    let checks = true;
    call.on('data', (message: Buffer) => {
      index--;
      bytes += message.length;
      if (message[0] !== index % 251) checks = false;
    });
    call.on('error', () => {});
    call.on('status', (status: grpc.StatusObject) => resolve({ bytes, checks, code: status.code }));
  });
}

describe('streaming calls on our own framing', () => {
  let viaGrpcJs: Server;
  let framed: Server;
  let grpcJsClient: grpc.Client;
  let framedClient: grpc.Client;

  before(async () => {
    viaGrpcJs = await server(false);
    framed = await server(true);
    grpcJsClient = new grpc.Client(`127.0.0.1:${viaGrpcJs.port}`, grpc.credentials.createInsecure());
    framedClient = new grpc.Client(`127.0.0.1:${framed.port}`, grpc.credentials.createInsecure());
  });

  after(() => {
    grpcJsClient.close();
    framedClient.close();
    viaGrpcJs.close();
    framed.close();
  });

  const conversations: Array<[string, string[], boolean]> = [
    ['messages echoed, then a half-close ends with OK', ['a', 'b', 'c'], true],
    ['the handler ends the call itself', ['a', 'end'], false],
    ['an error status with details to escape', ['a', 'fail'], false],
    ['no messages, then a half-close', [], true],
  ];
  for (const [name, send, halfClose] of conversations) {
    test(`bidi: ${name}, as on grpc-js`, async () => {
      const viaGrpcJs = await chat(grpcJsClient, send, halfClose);
      // grpc-js says "OK" on success, grpc-go (real etcd, and our framing) says nothing.
      const expected = viaGrpcJs.code === grpc.status.OK ? { ...viaGrpcJs, details: '' } : viaGrpcJs;
      assert.deepEqual(await chat(framedClient, send, halfClose), expected);
    });
  }

  test('server streaming: 40 messages of 64 KiB cross the client\'s windows in order, with backpressure', async () => {
    const drainsBefore = seen.drains;
    const result = await feed(framedClient, 40);
    assert.deepEqual(result, { bytes: 40 * 64 * 1024, checks: true, code: grpc.status.OK });
    assert.ok(seen.drains > drainsBefore, 'the handler had to wait for drain');
  });

  test('server streaming without a request message, or with two, answers as grpc-js', async () => {
    for (const messages of [0, 2]) {
      const outcome = async (client: grpc.Client): Promise<Outcome> =>
        new Promise((resolve) => {
          // A bidi call on the server-streaming path sends any number of request messages.
          const call = client.makeBidiStreamRequest('/toy.Stream/Feed', passThrough, passThrough);
          const received: string[] = [];
          call.on('data', (message: Buffer) => received.push(String(message.length)));
          call.on('error', () => {});
          call.on('status', (status: grpc.StatusObject) => resolve({ messages: received, code: status.code, details: status.details }));
          for (let index = 0; index < messages; index++) call.write(Buffer.from('1'));
          call.end();
        });
      assert.deepEqual(await outcome(framedClient), await outcome(grpcJsClient), `${messages} messages`);
    }
  });

  test('a client cancel reaches the handler as "cancelled"', async () => {
    const before = seen.cancelled;
    const call = framedClient.makeBidiStreamRequest('/toy.Stream/Chat', passThrough, passThrough);
    call.on('error', () => {});
    const first = new Promise<void>((resolve) => call.once('data', () => resolve()));
    call.write(Buffer.from('hello'));
    await first;
    const ended = new Promise<void>((resolve) => call.on('status', () => resolve()));
    call.cancel();
    await ended;
    // The server learns of the reset when it reads the client's RST_STREAM: wait for a later answer.
    assert.equal((await chat(framedClient, ['after'], true)).messages[0], 'echo after');
    assert.equal(seen.cancelled, before + 2, 'the cancelled call and the completed one each said "cancelled" once');
  });
});
