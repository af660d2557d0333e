import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { setTimeout as delay } from 'node:timers/promises';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { bindAddressOf } from '../../src/api/client-server';
import { ETCD3_LOADER_OPTIONS, etcdProtoPath, startServer } from './harness';

type Message = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

describe('ClientServer lifecycle', () => {
  test('client URLs (http:// and https://) become bind addresses', () => {
    assert.equal(bindAddressOf('http://127.0.0.1:2379'), '127.0.0.1:2379');
    assert.equal(bindAddressOf('http://[::1]:0'), '[::1]:0');
    assert.equal(bindAddressOf('https://127.0.0.1:2379'), '127.0.0.1:2379');
  });

  test('close() ends open watch and keepalive streams with UNAVAILABLE "server stopped" and returns promptly', async () => {
    const run = await startServer();
    const watch = (run.clients.watch as any).Watch(); // eslint-disable-line @typescript-eslint/no-explicit-any
    watch.on('data', () => {});
    const watchError = once(watch, 'error');
    const created = once(run.member, 'watchCreate');
    watch.write({ create_request: { key: Buffer.from('k') } });
    await created;
    const keepAlive = (run.clients.lease as any).LeaseKeepAlive(); // eslint-disable-line @typescript-eslint/no-explicit-any
    keepAlive.on('data', () => {});
    const keepAliveError = once(keepAlive, 'error');
    const answered = once(keepAlive, 'data');
    keepAlive.write({ ID: 1 });
    await answered;

    const started = Date.now();
    await run.server.close();
    assert.ok(Date.now() - started < 1500, 'close must not wait for the forced-shutdown timeout');
    const [watchErr] = (await watchError) as [grpc.ServiceError];
    assert.equal(watchErr.code, 14);
    assert.equal(watchErr.details, 'etcdserver: server stopped');
    const [keepAliveErr] = (await keepAliveError) as [grpc.ServiceError];
    assert.equal(keepAliveErr.code, 14);
    assert.equal(run.member.watchStreams[0]!.closed, true);
    run.clients.close();
  });

  test('a client pinging far more often than etcdctl (every 50 ms) is not sent away', async () => {
    const run = await startServer();
    const pkg = grpc.loadPackageDefinition(protoLoader.loadSync(etcdProtoPath(), ETCD3_LOADER_OPTIONS)) as any; // eslint-disable-line @typescript-eslint/no-explicit-any
    const client = new pkg.etcdserverpb.Watch(run.address, grpc.credentials.createInsecure(), {
      'grpc.keepalive_time_ms': 50,
      'grpc.keepalive_timeout_ms': 1000,
      'grpc.keepalive_permit_without_calls': 1,
    }) as grpc.Client;
    const stream = (client as any).Watch(); // eslint-disable-line @typescript-eslint/no-explicit-any
    const errors: unknown[] = [];
    stream.on('error', (err: unknown) => errors.push(err));
    const messages: Message[] = [];
    stream.on('data', (m: Message) => messages.push(m));
    stream.write({ create_request: { key: Buffer.from('k') } });
    await once(stream, 'data');
    // Absence of a GOAWAY can only be shown over time: let ~12 pings go by.
    await delay(600);
    const progress = once(stream, 'data');
    stream.write({ progress_request: {} });
    const [reply] = (await progress) as [Message];
    assert.equal(reply.watch_id, '-1');
    assert.deepEqual(errors, []);
    stream.cancel();
    client.close();
    await run.stop();
  });
});

describe('a watch client that stops reading', () => {
  test('is cut off with RESOURCE_EXHAUSTED once its queued bytes pass the bound, and its WatchStream closes', async () => {
    const { kv, watchResponse } = await import('./fake-member');
    const run = await startServer(undefined, 1024 * 1024);
    const stream = (run.clients.watch as any).Watch(); // eslint-disable-line @typescript-eslint/no-explicit-any
    const ended = once(stream, 'error');
    const created = once(stream, 'data');
    stream.write({ create_request: { key: Buffer.from('k') } });
    await created;
    stream.pause();
    const fake = run.member.watchStreams[0]!;
    const value = 'v'.repeat(64 * 1024);
    // Bounded: 64 × 64 KiB = 4 MiB, well past 1 MiB plus what HTTP/2 windows absorb.
    for (let i = 0; i < 64 && !fake.closed; i++) {
      fake.sink(watchResponse({ watchId: 0n, headerRevision: BigInt(10 + i), events: [{ type: 0, kv: kv('k', value) }] }));
    }
    assert.equal(fake.closed, true);
    stream.resume();
    const [err] = (await ended) as [grpc.ServiceError];
    assert.equal(err.code, 8);
    assert.equal(err.details, 'etcdserver: too many requests');
    await run.stop();
  });
});
