import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as grpc from '@grpc/grpc-js';
import { silentLogger } from '../../src/log';
import { clientCertCommonName } from '../../src/tls/client-identity';
import { TlsTerminator, type ServerTlsSettings } from '../../src/tls/server-tls';
import { TlsReloader } from '../../src/tls/tls-files';
import { skipUnlessBinaries } from '../support/skip';
import { TestPki, type CertPair, type TestCa } from '../support/tls-certs';
import { handshake } from './helpers';

const skip = skipUnlessBinaries('openssl');
const pass = (bytes: Buffer): Buffer => bytes;

/** A loopback listener whose sockets go through a TlsTerminator into `onSecure`. */
async function terminatedListener(settings: ServerTlsSettings, onSecure: (socket: import('node:tls').TLSSocket) => void): Promise<{ port: number; close(): void }> {
  const terminator = new TlsTerminator(settings, ['h2', 'http/1.1'], silentLogger(), onSecure);
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.once('close', () => sockets.delete(socket));
    terminator.accept(socket);
  });
  await new Promise<void>((resolve) => server.listen({ host: '127.0.0.1', port: 0 }, resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () => {
      server.close();
      for (const socket of sockets) socket.destroy();
    },
  };
}

describe('TlsTerminator', { skip }, () => {
  let pki: TestPki;
  let ca: TestCa;
  let serverCert: CertPair;
  let alice: CertPair;
  let stranger: CertPair;
  before(() => {
    pki = new TestPki();
    ca = pki.makeCa('ca');
    serverCert = pki.issue(ca, 'server');
    alice = pki.issue(ca, 'alice');
    stranger = pki.issue(pki.makeCa('other-ca'), 'alice', 'stranger');
  });
  after(() => pki.remove());

  const settings = (allowedCn = ''): ServerTlsSettings => ({
    reloader: new TlsReloader({ ...serverCert, trustedCaFile: ca.certFile }, {}, silentLogger()),
    clientCertAuth: true,
    allowedCn,
  });
  const clientOptions = (pair: CertPair | undefined) => ({
    ca: fs.readFileSync(ca.certFile),
    ...(pair === undefined ? {} : { cert: fs.readFileSync(pair.certFile), key: fs.readFileSync(pair.keyFile) }),
  });

  /** Whether the server side got a usable socket: it echoes one byte back. */
  async function serverAccepts(port: number, pair: CertPair | undefined): Promise<boolean> {
    const tls = await import('node:tls');
    return new Promise((resolve) => {
      const socket = tls.connect({ host: '127.0.0.1', port, ...clientOptions(pair) });
      const timer = setTimeout(() => {
        socket.destroy();
        resolve(false);
      }, 3_000);
      socket.on('secureConnect', () => socket.write('x'));
      socket.on('data', () => {
        clearTimeout(timer);
        socket.destroy();
        resolve(true);
      });
      socket.on('error', () => undefined);
      socket.on('close', () => {
        clearTimeout(timer);
        resolve(false);
      });
    });
  }

  test('client certificates: required, checked against the trusted CA, and the allowed CN', async () => {
    const echo = (socket: import('node:tls').TLSSocket) => socket.on('data', (d: Buffer) => socket.write(d));
    const open = await terminatedListener(settings(), echo);
    const restricted = await terminatedListener(settings('bob'), echo);
    try {
      assert.equal(await serverAccepts(open.port, alice), true);
      assert.equal(await serverAccepts(open.port, undefined), false);
      assert.equal(await serverAccepts(open.port, stranger), false);
      assert.equal(await serverAccepts(restricted.port, alice), false);
      const served = await handshake(open.port, clientOptions(alice));
      assert.ok(served.ok && served.cn === 'server');
    } finally {
      open.close();
      restricted.close();
    }
  });

  test('grpc-js sees the client certificate of an injected TLS socket: clientCertCommonName gives its CN', async () => {
    const server = new grpc.Server();
    const method = { path: '/test.Who/Am', requestStream: false, responseStream: false, requestSerialize: pass, requestDeserialize: pass, responseSerialize: pass, responseDeserialize: pass };
    server.addService({ Am: method }, {
      Am: (call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => callback(null, Buffer.from(clientCertCommonName(call) ?? '(none)')),
    });
    const injector = server.createConnectionInjector(grpc.ServerCredentials.createInsecure());
    const listener = await terminatedListener(settings(), (socket) => injector.injectConnection(socket));
    const client = new grpc.Client(
      `127.0.0.1:${listener.port}`,
      grpc.credentials.createSsl(fs.readFileSync(ca.certFile), fs.readFileSync(alice.keyFile), fs.readFileSync(alice.certFile)),
    );
    try {
      const answer = await new Promise<Buffer>((resolve, reject) =>
        client.makeUnaryRequest('/test.Who/Am', pass, pass, Buffer.alloc(0), new grpc.Metadata(), { deadline: Date.now() + 5_000 }, (err, value) => (err ? reject(err) : resolve(value!))),
      );
      assert.equal(answer.toString(), 'alice');
    } finally {
      client.close();
      listener.close();
      server.forceShutdown();
    }
  });
});
