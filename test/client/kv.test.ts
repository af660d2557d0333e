import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Client, KeyNotProvidedError, UnavailableError } from '../../clients/typescript/src';
import { freePort } from '../support/ports';
import { ServerProcess, startServerOfKind, stopAll } from '../support/processes';
import { skipUnlessBinaries } from '../support/skip';
import { clientTargets, newClient } from './harness';

for (const kind of clientTargets()) {
  describe(`latchkey-client KV against ${kind}`, { skip: skipUnlessBinaries('etcd') }, () => {
    let server: ServerProcess;
    let client: Client;

    before(async () => {
      server = await startServerOfKind(kind, { name: `ckv-${kind}` });
      client = newClient([server.endpoint]);
    });
    after(async () => {
      client?.close();
      await stopAll();
    });

    test('put, get, range by prefix with revisions as bigint, delete', { timeout: 20_000 }, async () => {
      const first = await client.kv.put('fruit/a', 'apple');
      await client.kv.put('fruit/b', 'banana');
      await client.kv.put('fruitz', 'not in the prefix');
      const apple = await client.kv.get('fruit/a');
      assert.equal(apple?.value.toString(), 'apple');
      assert.equal(typeof apple?.createRevision, 'bigint');
      assert.equal(apple?.createRevision, first.header.revision);
      assert.equal(apple?.version, 1n);

      const fruits = await client.kv.range('fruit/', { prefix: true });
      assert.deepEqual(fruits.kvs.map((kv) => kv.key.toString()), ['fruit/a', 'fruit/b']);
      assert.equal(fruits.count, 2n);

      const newestFirst = await client.kv.range('fruit/', { prefix: true, sortTarget: 'create', sortOrder: 'descend', limit: 1 });
      assert.deepEqual(newestFirst.kvs.map((kv) => kv.key.toString()), ['fruit/b']);
      assert.equal(newestFirst.more, true);

      const updated = await client.kv.put('fruit/a', 'apricot', { prevKv: true });
      assert.equal(updated.prevKv?.value.toString(), 'apple');

      const deleted = await client.kv.delete('fruit/', { prefix: true, prevKv: true });
      assert.equal(deleted.deleted, 2n);
      assert.equal(deleted.prevKvs.length, 2);
      assert.equal(await client.kv.get('fruit/a'), undefined);
    });

    test('txn: compare on create revision picks success or failure branch', { timeout: 20_000 }, async () => {
      const created = await client.kv.txn({
        compare: [{ key: 'txn-key', target: 'create', result: '=', value: 0n }],
        success: [{ put: { key: 'txn-key', value: 'v1' } }],
        failure: [{ range: { key: 'txn-key' } }],
      });
      assert.equal(created.succeeded, true);
      assert.ok(created.responses[0]?.put);

      const second = await client.kv.txn({
        compare: [{ key: 'txn-key', target: 'create', result: '=', value: 0n }],
        success: [{ put: { key: 'txn-key', value: 'v2' } }],
        failure: [{ range: { key: 'txn-key' } }],
      });
      assert.equal(second.succeeded, false);
      assert.equal(second.responses[0]?.range?.kvs[0]?.value.toString(), 'v1');
      assert.equal(second.responses[0]?.range?.kvs[0]?.createRevision, created.header.revision);

      const byValue = await client.kv.txn({
        compare: [{ key: 'txn-key', target: 'value', result: '=', value: 'v1' }],
        success: [{ deleteRange: { key: 'txn-key' } }],
      });
      assert.equal(byValue.succeeded, true);
      assert.equal(byValue.responses[0]?.deleteRange?.deleted, 1n);
    });

    test('server errors are typed and keep etcd text', { timeout: 20_000 }, async () => {
      await assert.rejects(client.kv.put('', 'x'), (error: unknown) => {
        assert.ok(error instanceof KeyNotProvidedError);
        assert.equal(error.message, 'etcdserver: key is not provided');
        assert.equal(error.code, 3);
        return true;
      });
    });

    test('fails over from a dead endpoint to a live one', { timeout: 20_000 }, async () => {
      const deadPort = await freePort();
      const failover = newClient([`127.0.0.1:${deadPort}`, server.endpoint]);
      try {
        await failover.kv.put('failover-key', 'reached');
        assert.equal((await failover.kv.get('failover-key'))?.value.toString(), 'reached');
      } finally {
        failover.close();
      }
    });

    test('gives up after bounded retries when no endpoint answers', { timeout: 20_000 }, async () => {
      const deadPort = await freePort();
      const nowhere = newClient([`127.0.0.1:${deadPort}`], { maxRetries: 3 });
      try {
        await assert.rejects(nowhere.kv.get('anything'), UnavailableError);
      } finally {
        nowhere.close();
      }
    });
  });
}
