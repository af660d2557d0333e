import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { Etcd3, EtcdLeaseInvalidError, EtcdLockFailedError } from 'etcd3';
import { ServerProcess, startServerOfKind, stopAll } from '../support/processes';
import { skipUnlessBinaries } from '../support/skip';
import { compatTargets } from './targets';

/**
 * The npm etcd3 client (1.1.2, grpc-js) against a latchkey process: the calls a Node.js
 * service makes. The same tests run against etcd to prove the expectations.
 */

/** Resolves with the first emission of `event`, or rejects after `timeoutMs`. */
async function nextEvent<T extends unknown[]>(emitter: NodeJS.EventEmitter, event: string, timeoutMs = 5_000): Promise<T> {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), timeoutMs);
  try {
    return (await once(emitter, event, { signal: abort.signal })) as T;
  } catch (error) {
    if (abort.signal.aborted) throw new Error(`no '${event}' event within ${timeoutMs} ms`);
    throw error;
  } finally {
    clearTimeout(timer);
  }
}

for (const kind of compatTargets()) {
  describe(`npm etcd3 against ${kind}`, { skip: skipUnlessBinaries('etcd') }, () => {
    let server: ServerProcess;
    let client: Etcd3;

    before(async () => {
      server = await startServerOfKind(kind, { name: `e3-${kind}` });
      client = new Etcd3({ hosts: server.clientUrl });
    });
    after(async () => {
      client?.close();
      await stopAll();
    });

    test('put, get, getAll().prefix(), delete', { timeout: 20_000 }, async () => {
      await client.put('app/config/a').value('1');
      await client.put('app/config/b').value('2');
      await client.put('app/other').value('x');
      assert.equal(await client.get('app/config/a').string(), '1');
      assert.equal(await client.get('app/missing').string(), null);
      assert.deepEqual(await client.getAll().prefix('app/config/').strings(), { 'app/config/a': '1', 'app/config/b': '2' });
      assert.deepEqual(await client.getAll().prefix('app/config/').keys(), ['app/config/a', 'app/config/b']);
      assert.equal(await client.getAll().prefix('app/').count(), 3);
      const previous = await client.put('app/config/a').value('1b').getPrevious();
      assert.equal(previous?.value.toString(), '1');
      const deleted = await client.delete().key('app/config/a');
      assert.equal(deleted.deleted, '1');
      await client.delete().prefix('app/');
      assert.deepEqual(await client.getAll().prefix('app/').strings(), {});
    });

    test('if/then/else transactions', { timeout: 20_000 }, async () => {
      await client.put('txn/state').value('idle');
      const first = await client
        .if('txn/state', 'Value', '==', 'idle')
        .then(client.put('txn/state').value('busy'), client.put('txn/owner').value('me'))
        .else(client.get('txn/state'))
        .commit();
      assert.equal(first.succeeded, true);
      assert.equal(await client.get('txn/state').string(), 'busy');
      assert.equal(await client.get('txn/owner').string(), 'me');

      const second = await client
        .if('txn/state', 'Value', '==', 'idle')
        .then(client.put('txn/state').value('busy'))
        .else(client.get('txn/state'))
        .commit();
      assert.equal(second.succeeded, false);
      const range = second.responses[0]!.response_range!;
      assert.equal(range.kvs[0]!.value.toString(), 'busy');

      const created = await client.if('txn/new', 'Create', '==', 0).then(client.put('txn/new').value('made')).commit();
      assert.equal(created.succeeded, true);
      const versioned = await client.if('txn/new', 'Version', '>', 0).then(client.delete().key('txn/new')).commit();
      assert.equal(versioned.succeeded, true);
      assert.equal(await client.get('txn/new').string(), null);
    });

    test('lease: grant, attach a key, keepaliveOnce, revoke removes the key', { timeout: 20_000 }, async () => {
      const lease = client.lease(30, { autoKeepAlive: false });
      const id = await lease.grant();
      assert.match(id, /^-?\d+$/);
      await lease.put('leased/session').value('alive');
      assert.equal(await client.get('leased/session').string(), 'alive');
      const keepalive = await lease.keepaliveOnce();
      assert.equal(keepalive.TTL, '30');
      assert.equal(keepalive.ID, id);
      const ttl = await client.leaseClient.leaseTimeToLive({ ID: id, keys: true });
      assert.equal(ttl.grantedTTL, '30');
      assert.ok(Number(ttl.TTL) > 25 && Number(ttl.TTL) <= 30, `TTL ${ttl.TTL}`);
      assert.deepEqual(ttl.keys.map((key) => key.toString()), ['leased/session']);
      await lease.revoke();
      assert.equal(await client.get('leased/session').string(), null);
    });

    test('lease with automatic keepalive stays alive and reports keepalives', { timeout: 20_000 }, async () => {
      const lease = client.lease(3);
      try {
        await lease.grant();
        await lease.put('auto/key').value('v');
        // The client sends its first keepalive after ttl/3 = 1 s.
        await nextEvent(lease, 'keepaliveSucceeded', 5_000);
        assert.equal(await client.get('auto/key').string(), 'v');
      } finally {
        await lease.revoke();
      }
      assert.equal(await client.get('auto/key').string(), null);
    });

    test('watch receives put and delete events', { timeout: 20_000 }, async () => {
      const watcher = await client.watch().prefix('events/').withPreviousKV().create();
      try {
        const putSeen = nextEvent<[{ key: Buffer; value: Buffer }]>(watcher, 'put');
        await client.put('events/one').value('1');
        const [putKv] = await putSeen;
        assert.equal(putKv.key.toString(), 'events/one');
        assert.equal(putKv.value.toString(), '1');

        const deleteSeen = nextEvent<[{ key: Buffer }, { value: Buffer } | undefined]>(watcher, 'delete');
        await client.delete().key('events/one');
        const [deletedKv, previous] = await deleteSeen;
        assert.equal(deletedKv.key.toString(), 'events/one');
        assert.equal(previous?.value.toString(), '1');
      } finally {
        await watcher.cancel();
      }
    });

    test('two watchers on one stream each see their own key', { timeout: 20_000 }, async () => {
      const a = await client.watch().key('multi/a').create();
      const b = await client.watch().key('multi/b').create();
      try {
        const seenA = nextEvent<[{ value: Buffer }]>(a, 'put');
        const seenB = nextEvent<[{ value: Buffer }]>(b, 'put');
        await client.put('multi/b').value('for-b');
        await client.put('multi/a').value('for-a');
        assert.equal((await seenA)[0].value.toString(), 'for-a');
        assert.equal((await seenB)[0].value.toString(), 'for-b');
      } finally {
        await a.cancel();
        await b.cancel();
      }
    });

    test('lock: acquire, a second acquire fails, release frees it', { timeout: 20_000 }, async () => {
      const first = client.lock('locks/resource');
      await first.acquire();
      await assert.rejects(client.lock('locks/resource').acquire(), EtcdLockFailedError);
      await first.release();
      const again = client.lock('locks/resource');
      await again.acquire();
      await again.release();
    });

    test('election: first campaigner leads, the second takes over after resign', { timeout: 20_000 }, async () => {
      const election = client.election('jobs', 10);
      const first = election.campaign('node-1');
      await first.wait();
      assert.equal(await election.leader(), 'node-1');
      const second = client.election('jobs', 10).campaign('node-2');
      let secondElected = false;
      second.on('elected', () => (secondElected = true));
      await first.proclaim('node-1b');
      assert.equal(await election.leader(), 'node-1b');
      assert.equal(secondElected, false);
      const elected = nextEvent(second, 'elected', 10_000);
      await first.resign();
      await elected;
      assert.equal(await election.leader(), 'node-2');
      await second.resign();
      assert.equal(await election.leader(), undefined);
    });

    test('errors map to etcd3 error classes', { timeout: 20_000 }, async () => {
      const lease = client.lease(10, { autoKeepAlive: false });
      const id = await lease.grant();
      await lease.revoke();
      await lease.revoke(); // etcd3 ignores "requested lease not found" on revoke
      await assert.rejects(client.kv.put({ key: Buffer.from('after/revoke'), value: Buffer.from('x'), lease: id }), EtcdLeaseInvalidError);
      await assert.rejects(client.kv.range({ key: Buffer.alloc(0) }), /etcdserver: key is not provided/);
      const ttl = await client.leaseClient.leaseTimeToLive({ ID: id });
      assert.equal(ttl.TTL, '-1');
    });
  });
}
