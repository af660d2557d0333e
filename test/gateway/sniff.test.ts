import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as net from 'node:net';
import { startLatchkey, stopAll, type ServerProcess } from '../support/processes';

/** Writes `bytes` in pieces of `size`, each after the previous one was flushed. */
async function writeInPieces(socket: net.Socket, bytes: Buffer, size: number): Promise<void> {
  for (let i = 0; i < bytes.length; i += size) {
    await new Promise<void>((resolve, reject) => socket.write(bytes.subarray(i, i + size), (err) => (err ? reject(err) : resolve())));
  }
}

function firstBytes(socket: net.Socket, count: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    let got = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      got = Buffer.concat([got, chunk]);
      if (got.length >= count) resolve(got);
    });
    socket.on('error', reject);
    socket.on('close', () => reject(new Error(`closed after ${got.length} bytes: ${got.toString('latin1')}`)));
  });
}

function connect(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port }, () => resolve(socket));
    socket.on('error', reject);
  });
}

describe('one port, two protocols: the first bytes decide', () => {
  let server: ServerProcess;
  before(async () => {
    server = await startLatchkey();
  });
  after(stopAll);

  test('an HTTP/1.1 request arriving one byte at a time loses nothing', async () => {
    const socket = await connect(server.clientPort);
    try {
      const answer = firstBytes(socket, 20);
      await writeInPieces(socket, Buffer.from('GET /version HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'), 1);
      const text = (await answer).toString('latin1');
      assert.match(text, /^HTTP\/1\.1 200 OK/);
    } finally {
      socket.destroy();
    }
  });

  test('an HTTP/2 preface split across writes still reaches the gRPC server (it answers SETTINGS)', async () => {
    const socket = await connect(server.clientPort);
    try {
      const answer = firstBytes(socket, 9);
      const preface = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');
      const emptySettings = Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0]);
      await writeInPieces(socket, Buffer.concat([preface, emptySettings]), 5);
      const frame = await answer;
      assert.equal(frame[3], 0x4, 'the first frame from the server is SETTINGS');
    } finally {
      socket.destroy();
    }
  });
});
