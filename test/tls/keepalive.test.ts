import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import * as grpc from '@grpc/grpc-js';
import { serverOptions } from '../../src/api/client-server';
import { etcdctlOk } from '../support/etcdctl';
import { startLatchkey, stopAll } from '../support/processes';
import { skipUnlessBinaries } from '../support/skip';

const skip = skipUnlessBinaries('etcdctl');

/** WatchRequest{create_request{key}} by hand: field 1 (LEN) holding field 1 (LEN) = key. */
function watchCreate(key: string): Buffer {
  const keyBytes = Buffer.from(key);
  const inner = Buffer.concat([Buffer.from([0x0a, keyBytes.length]), keyBytes]);
  return Buffer.concat([Buffer.from([0x0a, inner.length]), inner]);
}

const pass = (bytes: Buffer): Buffer => bytes;

describe('gRPC limits', () => {
  test('serverOptions carries the stream and keepalive flags', () => {
    const options = serverOptions(1024, { maxConcurrentStreams: 7, keepaliveIntervalMs: 30_000, keepaliveTimeoutMs: 4_000, keepaliveMinTimeMs: 5_000 });
    assert.equal(options['grpc.max_concurrent_streams'], 7);
    assert.equal(options['grpc.keepalive_time_ms'], 30_000);
    assert.equal(options['grpc.keepalive_timeout_ms'], 4_000);
    assert.equal(options['grpc.keepalive_permit_without_calls'], 1);
    assert.throws(() => serverOptions(1024, { maxConcurrentStreams: 0, keepaliveIntervalMs: 1, keepaliveTimeoutMs: 1, keepaliveMinTimeMs: 1 }));
  });
});

describe('client keepalive pings below --grpc-keepalive-min-time', { skip }, () => {
  after(() => stopAll());

  test('a client pinging every 2 s keeps an idle watch open for ~7 s', async () => {
    const member = await startLatchkey({ extraArgs: ['--grpc-keepalive-min-time', '5s'] });
    const client = new grpc.Client(member.endpoint, grpc.credentials.createInsecure(), {
      'grpc.keepalive_time_ms': 2_000,
      'grpc.keepalive_timeout_ms': 1_000,
      'grpc.keepalive_permit_without_calls': 1,
    });
    try {
      const call = client.makeBidiStreamRequest('/etcdserverpb.Watch/Watch', pass, pass);
      let ended: string | undefined;
      call.on('status', (status: grpc.StatusObject) => (ended = `${status.code} ${status.details}`));
      call.on('error', () => undefined);
      call.write(watchCreate('idle-watch'));
      await once(call, 'data'); // created
      // The point of the test is time passing with nothing but pings on the connection.
      await new Promise((resolve) => setTimeout(resolve, 7_000));
      assert.equal(ended, undefined, `the watch was cut: ${ended}`);
      const event = once(call, 'data');
      await etcdctlOk(member.endpoint, ['put', 'idle-watch', 'still-here']);
      const [message] = (await Promise.race([event, new Promise((_, reject) => setTimeout(() => reject(new Error('no event within 5 s')), 5_000))])) as [Buffer];
      assert.ok(message.includes(Buffer.from('still-here')));
      call.cancel();
    } finally {
      client.close();
      await member.stop();
    }
  });
});
