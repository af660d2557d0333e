import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { EtcdClient, RpcError, prefixEnd } from './etcd-client';
import { etcdctlOk } from './etcdctl';
import { freePorts } from './ports';
import { startEtcd, stopAll } from './processes';
import { skipUnlessBinaries } from './skip';

describe('test support helpers', () => {
  after(stopAll);

  test('freePorts returns distinct loopback ports', async () => {
    const ports = await freePorts(5);
    assert.equal(new Set(ports).size, 5);
    for (const port of ports) assert.ok(port > 0 && port < 65536);
  });

  test('prefixEnd follows the etcd convention', () => {
    assert.deepEqual(prefixEnd('foo'), Buffer.from('fop'));
    assert.deepEqual(prefixEnd('a/'), Buffer.from('a0'));
    assert.deepEqual(prefixEnd(Buffer.from([0x61, 0xff])), Buffer.from('b'));
    assert.deepEqual(prefixEnd(Buffer.from([0xff, 0xff])), Buffer.from([0]));
  });

  test(
    'startEtcd gives a ready server; stop removes its data dir',
    { timeout: 30_000, skip: skipUnlessBinaries('etcd', 'etcdctl') },
    async () => {
      const etcd = await startEtcd();
      const client = new EtcdClient(etcd.endpoint);
      try {
        const put = await client.put({ key: Buffer.from('k'), value: Buffer.from('v') });
        assert.equal(put.header.revision, '2');
        const got = await client.range({ key: Buffer.from('k') });
        assert.equal(got.kvs[0].value.toString(), 'v');
        await assert.rejects(client.put({ key: Buffer.alloc(0) }), (error: unknown) => {
          assert.ok(error instanceof RpcError);
          assert.equal(error.code, 3);
          assert.equal(error.details, 'etcdserver: key is not provided');
          return true;
        });
        assert.equal(await etcdctlOk(etcd.endpoint, ['get', 'k', '--print-value-only']), 'v\n');
      } finally {
        client.close();
      }
      assert.ok(fs.existsSync(etcd.dataDir));
      const exit = await etcd.stop();
      assert.ok(exit.code === 0 || exit.signal === 'SIGTERM', JSON.stringify(exit));
      assert.equal(fs.existsSync(etcd.dataDir), false);
    },
  );
});
