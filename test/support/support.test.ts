import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { EtcdClient, RpcError, prefixEnd } from './etcd-client';
import { etcdctlOk } from './etcdctl';
import { freePorts } from './ports';
import { startCluster, startEtcd, stopAll } from './processes';
import { findBinary, skipUnlessBinaries } from './skip';

describe('test support helpers', () => {
  after(stopAll);

  test('freePorts returns distinct loopback ports', async () => {
    const ports = await freePorts(5);
    assert.equal(new Set(ports).size, 5);
    for (const port of ports) assert.ok(port > 0 && port < 65536);
  });

  test('findBinary finds sh and not a made-up name; skipUnlessBinaries says why', () => {
    assert.ok(findBinary('sh') !== undefined);
    assert.equal(findBinary('no-such-binary-latchkey-test'), undefined);
    if (process.env.CI === 'true') {
      assert.throws(() => skipUnlessBinaries('no-such-binary-latchkey-test'), /CI=true/);
    } else {
      assert.match(String(skipUnlessBinaries('no-such-binary-latchkey-test')), /no-such-binary-latchkey-test not installed/);
    }
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

  test(
    'kill9 then restart on the same data dir and ports keeps the data',
    { timeout: 40_000, skip: skipUnlessBinaries('etcd') },
    async () => {
      const first = await startEtcd({ name: 'crashy' });
      const client = new EtcdClient(first.endpoint);
      try {
        await client.put({ key: Buffer.from('durable'), value: Buffer.from('yes') });
        const exit = await first.kill9();
        assert.equal(exit.signal, 'SIGKILL');
        assert.ok(fs.existsSync(first.dataDir), 'kill9 keeps the data dir');
        const second = await startEtcd({
          name: 'crashy',
          dataDir: first.dataDir,
          clientPort: first.clientPort,
          peerPort: first.peerPort,
        });
        const got = await client.range({ key: Buffer.from('durable') });
        assert.equal(got.kvs[0].value.toString(), 'yes');
        await second.stop();
        assert.ok(fs.existsSync(first.dataDir), 'a data dir passed in is not removed by stop');
        await first.stop(); // already exited: removes the dir it created
        assert.equal(fs.existsSync(first.dataDir), false);
      } finally {
        client.close();
      }
    },
  );

  test('startCluster starts three etcd members that agree', { timeout: 40_000, skip: skipUnlessBinaries('etcd') }, async () => {
    const members = await startCluster('etcd', { size: 3, namePrefix: 'trio' });
    assert.equal(members.length, 3);
    const clients = members.map((member) => new EtcdClient(member.endpoint));
    try {
      await clients[0]!.put({ key: Buffer.from('shared'), value: Buffer.from('1') });
      for (const client of clients) {
        const got = await client.range({ key: Buffer.from('shared') });
        assert.equal(got.kvs[0].value.toString(), '1');
      }
      const list = await clients[2]!.memberList();
      assert.deepEqual(list.members.map((m: { name: string }) => m.name).sort(), ['trio0', 'trio1', 'trio2']);
    } finally {
      for (const client of clients) client.close();
      // SIGKILL: etcd members stopped together with SIGTERM wait ~7 s for a leadership transfer.
      await Promise.all(members.map((member) => member.stop('SIGKILL')));
    }
    for (const member of members) assert.equal(fs.existsSync(member.dataDir), false);
  });
});
