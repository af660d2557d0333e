import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import * as net from 'node:net';
import { silentLogger } from '../../../src/log';
import { PeerProxy, pidTableResolver, UNKNOWN_SOURCE } from '../../../src/verify/faults/proxy';
import { findSocketOwner } from '../../../src/verify/faults/socket-owner';
import { freePorts } from '../../support/ports';

/** An echo server standing in for a member's peer port. */
async function startEcho(port: number): Promise<net.Server> {
  const server = net.createServer((socket) => {
    socket.on('error', () => socket.destroy());
    socket.pipe(socket);
  });
  await new Promise<void>((resolve) => server.listen({ host: '127.0.0.1', port }, () => resolve()));
  return server;
}

/** Connects, sends `text`, resolves with the echo; rejects if the connection closes first. */
function roundTrip(socket: net.Socket, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    if (socket.destroyed) {
      reject(new Error('connection closed'));
      return;
    }
    let got = '';
    const onData = (chunk: Buffer): void => {
      got += chunk.toString();
      if (got.length >= text.length) {
        socket.off('data', onData);
        socket.off('close', onClose);
        resolve(got);
      }
    };
    const onClose = (): void => reject(new Error('connection closed'));
    socket.on('data', onData);
    socket.once('close', onClose);
    socket.write(text);
  });
}

function connect(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port }, () => resolve(socket));
    socket.once('error', reject);
    // A cut connection may report ECONNRESET after the test moved on.
    socket.on('error', () => undefined);
  });
}

function closed(socket: net.Socket): Promise<void> {
  return new Promise((resolve) => (socket.destroyed ? resolve() : socket.once('close', () => resolve())));
}

describe('fault proxy', () => {
  const cleanups: Array<() => Promise<void>> = [];
  after(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  test('finds which process holds the dialing end of a loopback connection', { skip: process.platform !== 'linux' && 'needs /proc (Linux)' }, async () => {
    const [port] = await freePorts(1);
    const echo = await startEcho(port!);
    cleanups.push(() => new Promise((resolve) => echo.close(() => resolve())));
    const socket = await connect(port!);
    assert.equal(findSocketOwner(socket.localPort!, port!, [process.pid]), process.pid);
    assert.equal(findSocketOwner(socket.localPort!, port!, [1]), undefined);
    socket.destroy();
  });

  test('blocking a source cuts its connections and refuses new ones; unblocking restores traffic', async () => {
    const [echoPort, proxyPort] = await freePorts(2);
    const echo = await startEcho(echoPort!);
    const proxy = new PeerProxy('m1', proxyPort!, echoPort!, pidTableResolver(() => new Map([[process.pid, 'm0']])), silentLogger());
    await proxy.start();
    cleanups.push(async () => {
      await proxy.stop();
      await new Promise<void>((resolve) => echo.close(() => resolve()));
    });

    const first = await connect(proxyPort!);
    assert.equal(await roundTrip(first, 'hello'), 'hello');
    assert.deepEqual(proxy.connectionSources(), process.platform === 'linux' ? ['m0'] : [UNKNOWN_SOURCE]);

    proxy.block(process.platform === 'linux' ? 'm0' : UNKNOWN_SOURCE);
    await closed(first);
    const refused = await connect(proxyPort!);
    await closed(refused);
    await assert.rejects(roundTrip(refused, 'x'));

    // Another source's block does not touch this one.
    proxy.unblock(process.platform === 'linux' ? 'm0' : UNKNOWN_SOURCE);
    proxy.block('m2');
    const again = await connect(proxyPort!);
    assert.equal(await roundTrip(again, 'back again'), 'back again');

    proxy.blockAll();
    await closed(again);
    proxy.unblockAll();
    const last = await connect(proxyPort!);
    assert.equal(await roundTrip(last, 'ok'), 'ok');
    last.destroy();
    assert.ok(proxy.forwardedBytes > 0);
  });
});
