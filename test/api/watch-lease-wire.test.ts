import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { ClientDuplexStream } from '@grpc/grpc-js';
import { EventType } from '../../src/storage/mvcc/types';
import { BIG_MEMBER_ID, kv, watchResponse, type FakeWatchStream } from './fake-member';
import { startServer, unary, type Running } from './harness';

type Message = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
type Duplex = ClientDuplexStream<Message, Message>;

/** Collects a stream's messages; `next(n)` resolves once n more have arrived. */
class Inbox {
  private readonly messages: Message[] = [];
  private waiter: { count: number; resolve: (m: Message[]) => void } | undefined;
  constructor(stream: Duplex) {
    stream.on('data', (m: Message) => {
      this.messages.push(m);
      this.flush();
    });
  }
  private flush(): void {
    if (this.waiter && this.messages.length >= this.waiter.count) {
      const { count, resolve } = this.waiter;
      this.waiter = undefined;
      resolve(this.messages.splice(0, count));
    }
  }
  next(count = 1): Promise<Message[]> {
    return new Promise((resolve) => {
      this.waiter = { count, resolve };
      this.flush();
    });
  }
}

function openWatch(run: Running): { stream: Duplex; inbox: Inbox } {
  const stream = (run.clients.watch as any).Watch() as Duplex; // eslint-disable-line @typescript-eslint/no-explicit-any
  // Our own stream.cancel() surfaces as a CANCELLED error on the client side.
  stream.on('error', () => {});
  return { stream, inbox: new Inbox(stream) };
}

async function latestWatchStream(run: Running, count: number): Promise<FakeWatchStream> {
  while (run.member.watchStreams.length < count) await once(run.member, 'watchCreate');
  return run.member.watchStreams[count - 1]!;
}

describe('Watch and Lease streams over the wire', () => {
  let run: Running;
  before(async () => {
    run = await startServer();
  });
  after(async () => {
    await run.stop();
  });

  test('create, events, progress and cancel flow through with their ids; watch_id -1 survives', async () => {
    const { stream, inbox } = openWatch(run);
    stream.write({ create_request: { key: Buffer.from('a'), range_end: Buffer.from([0]), start_revision: 5, prev_kv: true, filters: [1], watch_id: 7, progress_notify: true } });
    const [created] = await inbox.next();
    assert.equal(created!.created, true);
    assert.equal(created!.watch_id, '7');
    const fake = await latestWatchStream(run, run.member.watchStreams.length || 1);
    const create = fake.creates[0]!;
    assert.equal(create.startRevision, 5n);
    assert.equal(create.prevKv, true);
    assert.deepEqual(create.filters, [1]);
    assert.equal(create.watchId, 7n);
    assert.equal(create.progressNotify, true);

    fake.sink(watchResponse({
      watchId: 7n,
      headerRevision: 9n,
      events: [
        { type: EventType.PUT, kv: kv('a', '1', { modRevision: 9n }), prevKv: kv('a', '0') },
        { type: EventType.DELETE, kv: { key: Buffer.from('b'), modRevision: 9n, createRevision: 0n, version: 0n, value: Buffer.alloc(0), lease: 0n } },
      ],
    }));
    const [events] = await inbox.next();
    assert.equal(events!.header.revision, '9');
    assert.equal(events!.header.member_id, BIG_MEMBER_ID.toString());
    assert.equal(events!.events.length, 2);
    assert.equal(events!.events[0].type, 'Put');
    assert.equal(events!.events[0].prev_kv.value.toString(), '0');
    assert.equal(events!.events[1].type, 'Delete');
    assert.equal(events!.events[1].kv.create_revision, '0');

    stream.write({ progress_request: {} });
    const [progress] = await inbox.next();
    assert.equal(progress!.watch_id, '-1');
    assert.equal(progress!.created, false);

    stream.write({ cancel_request: { watch_id: 7 } });
    const [canceled] = await inbox.next();
    assert.equal(canceled!.canceled, true);
    assert.deepEqual(fake.cancels, [7n]);

    const closed = once(run.member, 'watchClosed');
    stream.cancel();
    await closed;
    assert.equal(fake.closed, true);
  });

  test('a compacted-watch cancel has no header revision, and a failed create carries watch_id -1', async () => {
    const { stream, inbox } = openWatch(run);
    stream.write({ create_request: { key: Buffer.from('k') } });
    await inbox.next();
    const fake = run.member.watchStreams.at(-1)!;
    fake.sink(watchResponse({ watchId: 0n, canceled: true, compactRevision: 23n, headerRevision: 0n }));
    fake.sink(watchResponse({ watchId: -1n, created: true, canceled: true, cancelReason: 'mvcc: watcher range is empty', headerRevision: 7n }));
    const [compacted, failed] = await inbox.next(2);
    assert.equal(compacted!.compact_revision, '23');
    assert.equal(compacted!.header.revision, '0');
    assert.equal(compacted!.header.raft_term, '2');
    assert.equal(failed!.watch_id, '-1');
    assert.equal(failed!.cancel_reason, 'mvcc: watcher range is empty');
    const closed = once(run.member, 'watchClosed');
    stream.cancel();
    await closed;
  });

  test('responses over 2 MiB are split for fragment watchers: all parts but the last say fragment', async () => {
    const { stream, inbox } = openWatch(run);
    stream.write({ create_request: { key: Buffer.from('big'), fragment: true } });
    await inbox.next();
    const fake = run.member.watchStreams.at(-1)!;
    const megabyte = 'x'.repeat(1_000_000);
    const events = [1, 2, 3].map((i) => ({ type: EventType.PUT, kv: kv(`big${i}`, megabyte, { modRevision: 10n }) }));
    fake.sink(watchResponse({ watchId: 0n, headerRevision: 10n, fragment: true, events }));
    const parts = await inbox.next(2);
    assert.deepEqual(parts.map((p) => p.events.length), [2, 1]);
    assert.deepEqual(parts.map((p) => p.fragment), [true, false]);
    // Without the flag the same events travel as one message.
    fake.sink(watchResponse({ watchId: 0n, headerRevision: 11n, fragment: false, events }));
    const [whole] = await inbox.next();
    assert.equal(whole!.events.length, 3);
    assert.equal(whole!.fragment, false);
    const closed = once(run.member, 'watchClosed');
    stream.cancel();
    await closed;
  });

  test('LeaseKeepAlive answers once per request in order, echoing negative ids; half-close ends it OK', async () => {
    const stream = (run.clients.lease as any).LeaseKeepAlive() as Duplex; // eslint-disable-line @typescript-eslint/no-explicit-any
    const inbox = new Inbox(stream);
    stream.write({ ID: '-7' });
    stream.write({ ID: '1353509910998852404' });
    run.member.keepAliveTtl = 0n;
    const [first, second] = await inbox.next(2);
    assert.equal(first!.ID, '-7');
    assert.equal(second!.ID, '1353509910998852404');
    assert.equal(second!.TTL, '0');
    run.member.keepAliveTtl = 10n;
    const ended = once(stream, 'status');
    stream.end();
    const [status] = (await ended) as [{ code: number }];
    assert.equal(status.code, 0);
  });

  test('unary lease calls carry ids and TTLs both ways', async () => {
    const grant = await unary<Message>(run.clients.lease, 'LeaseGrant', { TTL: 1, ID: '-7' });
    assert.deepEqual(run.member.callsTo('leaseGrant').at(-1)!.args, [1n, -7n]);
    assert.equal(grant.ID, '-7');
    assert.equal(grant.TTL, '2');
    const ttl = await unary<Message>(run.clients.lease, 'LeaseTimeToLive', { ID: '-9223372036854775808', keys: true });
    assert.equal(ttl.ID, '-9223372036854775808');
    assert.equal(ttl.TTL, '-1');
    assert.equal(ttl.keys[0].toString(), 'k1');
    const leases = await unary<Message>(run.clients.lease, 'LeaseLeases', {});
    assert.deepEqual(leases.leases.map((l: Message) => l.ID), ['-7', '1353509910998852113']);
    await unary(run.clients.lease, 'LeaseRevoke', { ID: 5 });
    assert.deepEqual(run.member.callsTo('leaseRevoke').at(-1)!.args, [5n]);
  });

  test('cluster and maintenance: uint64 member ids, MemberList without revision, Alarm/Defragment without header', async () => {
    const list = await unary<Message>(run.clients.cluster, 'MemberList', { linearizable: true });
    assert.equal(list.members[0].ID, BIG_MEMBER_ID.toString());
    assert.deepEqual(list.members[0].clientURLs, ['http://127.0.0.1:2379']);
    assert.equal(list.header.revision, '0');
    assert.equal(list.header.member_id, BIG_MEMBER_ID.toString());
    await unary(run.clients.cluster, 'MemberRemove', { ID: BIG_MEMBER_ID.toString() });
    assert.deepEqual(run.member.callsTo('memberRemove').at(-1)!.args, [BIG_MEMBER_ID]);
    const added = await unary<Message>(run.clients.cluster, 'MemberAdd', { peerURLs: ['http://127.0.0.1:2390'], isLearner: true });
    assert.equal(added.member.isLearner, true);
    const status = await unary<Message>(run.clients.maintenance, 'Status', {});
    assert.equal(status.leader, status.header.member_id);
    assert.equal(status.version, '3.4.23');
    assert.equal(status.dbSize, '20480');
    const alarm = await unary<Message>(run.clients.maintenance, 'Alarm', { action: 0 });
    assert.equal(alarm.header, null);
    const defrag = await unary<Message>(run.clients.maintenance, 'Defragment', {});
    assert.equal(defrag.header, null);
    const hashKv = await unary<Message>(run.clients.maintenance, 'HashKV', { revision: 0 });
    assert.equal(hashKv.compact_revision, '23');
    const hash = await unary<Message>(run.clients.maintenance, 'Hash', {});
    assert.equal(hash.hash, 0xdeadbeef);
  });

  test('Snapshot streams every chunk then ends OK', async () => {
    run.member.snapshotChunks = [
      { remainingBytes: 6n, blob: Buffer.from('abc') },
      { remainingBytes: 0n, blob: Buffer.from('def') },
    ];
    const stream = (run.clients.maintenance as any).Snapshot({}); // eslint-disable-line @typescript-eslint/no-explicit-any
    const chunks: Message[] = [];
    stream.on('data', (m: Message) => chunks.push(m));
    const [status] = (await once(stream, 'status')) as [{ code: number }];
    assert.equal(status.code, 0);
    assert.equal(Buffer.concat(chunks.map((c) => c.blob)).toString(), 'abcdef');
    assert.deepEqual(chunks.map((c) => c.remaining_bytes), ['6', '0']);
  });
});
