import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { Etcd3 } from 'etcd3';
import { EventType } from '../../src/storage/mvcc/types';
import { kv, watchResponse } from './fake-member';
import { startServer, type Running } from './harness';

describe('the etcd3 npm client talks to the API unchanged', () => {
  let run: Running;
  let client: Etcd3;
  before(async () => {
    run = await startServer();
    client = new Etcd3({ hosts: `http://${run.address}` });
  });
  after(async () => {
    client.close();
    await run.stop();
  });

  test('put then get a value', async () => {
    await client.put('greeting').value('hello');
    const put = run.member.callsTo('put').at(-1)!.args[0] as { key: Buffer; value: Buffer };
    assert.equal(put.key.toString(), 'greeting');
    assert.equal(put.value.toString(), 'hello');
    run.member.rangeResult = { kvs: [kv('greeting', 'hello')], more: false, count: 1n };
    assert.equal(await client.get('greeting').string(), 'hello');
  });

  test('an empty-key error surfaces as etcd\'s message', async () => {
    await assert.rejects(client.put('').value('x').exec(), /etcdserver: key is not provided/);
  });

  test('lease grant with keepaliveOnce, then revoke', async () => {
    const lease = client.lease(30, { autoKeepAlive: false });
    const id = await lease.grant();
    assert.equal(id, '1353509910998852113');
    const keepAlive = await lease.keepaliveOnce();
    assert.equal(keepAlive.ID, '1353509910998852113');
    assert.equal(keepAlive.TTL, '10');
    await lease.revoke();
    assert.deepEqual(run.member.callsTo('leaseRevoke').at(-1)!.args, [1353509910998852113n]);
  });

  test('memberList and status', async () => {
    const members = await client.cluster.memberList({});
    assert.equal(members.members[0]!.name, 'm1');
    const status = await client.maintenance.status();
    assert.equal(status.version, '3.4.23');
    assert.equal(status.leader, status.header.member_id);
  });

  test('a watcher is created and receives a put event', async () => {
    const created = once(run.member, 'watchCreate');
    const watcher = await client.watch().key('w').create();
    await created;
    const fake = run.member.watchStreams.at(-1)!;
    assert.equal(fake.creates.at(-1)!.progressNotify, true);
    const put = once(watcher, 'put');
    fake.sink(watchResponse({ watchId: 0n, headerRevision: 12n, events: [{ type: EventType.PUT, kv: kv('w', 'v1', { modRevision: 12n }) }] }));
    const [event] = (await put) as [{ value: Buffer; mod_revision: string }];
    assert.equal(event.value.toString(), 'v1');
    assert.equal(event.mod_revision, '12');
    await watcher.cancel();
    assert.deepEqual(fake.cancels, [0n]);
  });
});
