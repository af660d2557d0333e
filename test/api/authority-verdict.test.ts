import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as childProcess from 'node:child_process';
import * as net from 'node:net';
import * as grpc from '@grpc/grpc-js';
import { authorityFixupVerdict, CLIENT_PREFACE_BYTES } from '../../src/api/authority-fixup';
import { skipUnlessBinaries } from '../support/skip';

const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

function frame(type: number, payload: Buffer): Buffer {
  const header = Buffer.alloc(9);
  header.writeUIntBE(payload.length, 0, 3);
  header[3] = type;
  return Buffer.concat([header, payload]);
}

function setting(id: number, value: number): Buffer {
  const entry = Buffer.alloc(6);
  entry.writeUInt16BE(id, 0);
  entry.writeUInt32BE(value, 2);
  return entry;
}

/** The verdict a real client's first bytes get: a TCP server reads until it is not 'wait'. */
async function verdictOfClient(connect: (port: number) => () => void): Promise<string> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  let stop: () => void = () => undefined;
  try {
    return await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('the client sent no complete first frame within 10 s')), 10_000);
      server.once('connection', (socket) => {
        let head = Buffer.alloc(0);
        socket.on('data', (chunk: Buffer) => {
          head = Buffer.concat([head, chunk]);
          const verdict = authorityFixupVerdict(head);
          if (verdict === 'wait') return;
          clearTimeout(timer);
          socket.destroy();
          resolve(verdict);
        });
      });
      stop = connect(port);
    });
  } finally {
    stop();
    server.close();
  }
}

describe('which connections skip the :authority fix-up wrapper', () => {
  test('grpc-js (Node http2) clients get the raw socket', async () => {
    const verdict = await verdictOfClient((port) => {
      const client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
      client.waitForReady(Date.now() + 10_000, () => undefined);
      return () => client.close();
    });
    assert.equal(verdict, 'raw');
  });

  test('grpc-go clients (etcdctl 3.4), which send http:// authorities, keep the fix-up', { skip: skipUnlessBinaries('etcdctl') }, async () => {
    const verdict = await verdictOfClient((port) => {
      const child = childProcess.spawn('etcdctl', ['--endpoints', `http://127.0.0.1:${port}`, '--dial-timeout=5s', 'get', 'x'], {
        env: { ...process.env, ETCDCTL_API: '3' },
        stdio: 'ignore',
      });
      return () => child.kill('SIGKILL');
    });
    assert.equal(verdict, 'fixup');
  });

  test('waits for the whole first frame; anything unexpected keeps the safe path', () => {
    const nodeSettings = frame(0x4, setting(0x4, 65535));
    const full = Buffer.concat([PREFACE, nodeSettings]);
    assert.equal(CLIENT_PREFACE_BYTES, PREFACE.length);
    for (let cut = 0; cut < full.length; cut++) assert.equal(authorityFixupVerdict(full.subarray(0, cut)), 'wait', `cut at ${cut}`);
    assert.equal(authorityFixupVerdict(full), 'raw');
    assert.equal(authorityFixupVerdict(Buffer.concat([PREFACE, frame(0x4, Buffer.alloc(0))])), 'fixup', 'empty SETTINGS (grpc-go)');
    assert.equal(authorityFixupVerdict(Buffer.concat([PREFACE, frame(0x4, setting(0x4, 1 << 20))])), 'fixup', 'a window other than the default');
    assert.equal(authorityFixupVerdict(Buffer.concat([PREFACE, frame(0x1, Buffer.alloc(6))])), 'fixup', 'HEADERS first');
    assert.equal(authorityFixupVerdict(Buffer.concat([PREFACE, frame(0x4, Buffer.alloc(6 * 40))])), 'fixup', 'an oversized SETTINGS');
  });
});
