import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { EtcdClient, prefixEnd, type Wire } from '../support/etcd-client';
import { etcdctlOk } from '../support/etcdctl';
import { freePorts } from '../support/ports';
import { makeTempDir, startCluster, startLatchkey, stopAll, type ServerProcess } from '../support/processes';
import { skipUnlessBinaries } from '../support/skip';
import { latchkeyCli, latchkeyCliOk } from './latchkey-cli';

const PREFIX = 'restore/';

interface KeyState {
  value: string;
  createRevision: string;
  modRevision: string;
  version: string;
}

async function allKeys(client: EtcdClient, serializable = false): Promise<{ keys: Map<string, KeyState>; revision: string }> {
  const response = await client.range({ key: Buffer.from(PREFIX), range_end: prefixEnd(PREFIX), serializable });
  const keys = new Map<string, KeyState>();
  for (const kv of response.kvs as Wire[]) {
    keys.set(Buffer.from(kv.key).toString(), {
      value: Buffer.from(kv.value).toString(),
      createRevision: String(kv.create_revision),
      modRevision: String(kv.mod_revision),
      version: String(kv.version),
    });
  }
  return { keys, revision: String(response.header.revision) };
}

/** Writes, overwrites and deletes, so create and mod revisions differ and history has holes. */
async function load(client: EtcdClient): Promise<void> {
  for (let i = 0; i < 120; i += 1) await client.put({ key: Buffer.from(`${PREFIX}k${i}`), value: Buffer.from(`v${i}`) });
  for (let i = 0; i < 120; i += 3) await client.put({ key: Buffer.from(`${PREFIX}k${i}`), value: Buffer.from(`v${i}-again`) });
  for (let i = 1; i < 120; i += 10) await client.deleteRange({ key: Buffer.from(`${PREFIX}k${i}`) });
}

async function untilLinearizable(client: EtcdClient, deadlineMs: number): Promise<void> {
  for (let attempt = 0; ; attempt += 1) {
    try {
      await client.range({ key: Buffer.from('health') }, { deadlineMs: 2_000 });
      return;
    } catch (err) {
      if (Date.now() > deadlineMs || attempt > 200) throw err;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

describe('snapshot save → restore into a new 3-member cluster', { skip: skipUnlessBinaries('etcdctl') }, () => {
  after(stopAll);

  test('every key comes back with its revisions, under a new cluster id', async () => {
    const work = makeTempDir('snapshot-restore');
    const file = path.join(work, 'backup.db');
    const source = await startCluster('latchkey', { size: 3, namePrefix: 'source-m' });
    const writer = new EtcdClient(source[0]!.endpoint);
    const saver = new EtcdClient(source[2]!.endpoint);
    let before: { keys: Map<string, KeyState>; revision: string };
    let sourceClusterId: string;
    let leaseId: string;
    try {
      await load(writer);
      leaseId = String((await writer.leaseGrant({ TTL: 3600 })).ID);
      await writer.put({ key: Buffer.from(`${PREFIX}leased`), value: Buffer.from('held'), lease: leaseId });
      // A linearizable read on the member that saves: it has applied every write above.
      before = await allKeys(saver);
      sourceClusterId = String((await saver.status()).header.cluster_id);
      await etcdctlOk(source[2]!.endpoint, ['snapshot', 'save', file]);
    } finally {
      writer.close();
      saver.close();
      await Promise.all(source.map((m) => m.stop('SIGKILL')));
    }
    assert.equal(before.keys.size, 109);

    const status = JSON.parse(await latchkeyCliOk(['snapshot', 'status', file, '-w', 'json'])) as Record<string, number>;
    assert.equal(String(status.revision), before.revision);
    assert.ok(status.totalKey! > 109, `totalKey ${status.totalKey}`);
    assert.equal(status.totalSize, fs.statSync(file).size - 32);
    const table = await latchkeyCliOk(['snapshot', 'status', file, '-w', 'table']);
    assert.match(table, /\|\s+HASH\s+\|\s+REVISION\s+\|\s+TOTAL KEYS\s+\|\s+TOTAL SIZE\s+\|/);
    assert.match(table, new RegExp(`\\|\\s+${before.revision} \\|`));

    const ports = await freePorts(6);
    const names = ['r0', 'r1', 'r2'];
    const initialCluster = names.map((n, i) => `${n}=http://127.0.0.1:${ports[2 * i + 1]}`).join(',');
    const token = 'restored-token';
    const dirs = names.map((n) => path.join(work, n));
    for (const [i, name] of names.entries()) {
      await latchkeyCliOk([
        'snapshot', 'restore', file, '--name', name, '--data-dir', dirs[i]!, '--initial-cluster', initialCluster,
        '--initial-cluster-token', token, '--initial-advertise-peer-urls', `http://127.0.0.1:${ports[2 * i + 1]}`,
      ]);
    }
    const refused = await latchkeyCli(['snapshot', 'restore', file, '--name', 'r0', '--data-dir', dirs[0]!, '--initial-cluster', initialCluster]);
    assert.notEqual(refused.code, 0, 'restoring over an existing data dir must fail');
    assert.match(refused.stderr, /exists/);

    const members: ServerProcess[] = await Promise.all(
      names.map((name, i) =>
        startLatchkey({
          name, dataDir: dirs[i]!, clientPort: ports[2 * i]!, peerPort: ports[2 * i + 1]!, initialCluster,
          initialClusterState: 'new', extraArgs: ['--initial-cluster-token', token],
        }),
      ),
    );
    const clients = members.map((m) => new EtcdClient(m.endpoint));
    try {
      const deadline = Date.now() + 20_000;
      await Promise.all(clients.map((c) => untilLinearizable(c, deadline)));
      for (const client of clients) {
        const afterRestore = await allKeys(client);
        assert.deepEqual(afterRestore.keys, before.keys);
        assert.equal(afterRestore.revision, before.revision);
      }
      const restoredStatus = await clients[0]!.status();
      assert.notEqual(String(restoredStatus.header.cluster_id), sourceClusterId);
      const leases = await clients[0]!.leaseLeases();
      assert.deepEqual((leases.leases as Wire[]).map((l) => String(l.ID)), [leaseId]);
      const leased = await clients[1]!.range({ key: Buffer.from(`${PREFIX}leased`) });
      assert.equal(String(leased.kvs[0].lease), leaseId);
      const list = await clients[1]!.memberList();
      assert.deepEqual((list.members as Wire[]).map((m) => m.name as string).sort(), names);
      const put = await clients[2]!.put({ key: Buffer.from(`${PREFIX}new`), value: Buffer.from('x') });
      assert.equal(String(put.header.revision), String(BigInt(before.revision) + 1n));
      for (const client of clients) {
        const seen = await allKeys(client);
        assert.equal(seen.keys.get(`${PREFIX}new`)?.modRevision, String(BigInt(before.revision) + 1n));
      }

      // A restored member restarts like any other: its WAL replays on top of the restored data.
      clients[0]!.close();
      await members[0]!.kill9();
      members[0] = await startLatchkey({
        name: 'r0', dataDir: dirs[0]!, clientPort: ports[0]!, peerPort: ports[1]!, initialCluster,
        initialClusterState: 'new', extraArgs: ['--initial-cluster-token', token],
      });
      clients[0] = new EtcdClient(members[0].endpoint);
      await untilLinearizable(clients[0], Date.now() + 20_000);
      const restarted = await allKeys(clients[0]);
      assert.equal(restarted.keys.size, before.keys.size + 1);
      assert.deepEqual(restarted.keys.get(`${PREFIX}k3`), before.keys.get(`${PREFIX}k3`));
    } finally {
      for (const c of clients) c.close();
      await Promise.all(members.map((m) => m.stop('SIGKILL')));
    }
  });

  test('a corrupted snapshot is refused by its sha256', async () => {
    const work = makeTempDir('snapshot-corrupt');
    const file = path.join(work, 'backup.db');
    const source = await startLatchkey({ name: 'corrupt-source' });
    try {
      await etcdctlOk(source.endpoint, ['put', 'a', 'b']);
      await etcdctlOk(source.endpoint, ['snapshot', 'save', file]);
    } finally {
      await source.stop();
    }
    const bytes = fs.readFileSync(file);
    bytes[100] = bytes[100]! ^ 0xff;
    fs.writeFileSync(file, bytes);
    const result = await latchkeyCli(['snapshot', 'restore', file, '--name', 'x', '--data-dir', path.join(work, 'x'),
      '--initial-cluster', 'x=http://127.0.0.1:2380', '--initial-advertise-peer-urls', 'http://127.0.0.1:2380']);
    assert.notEqual(result.code, 0);
    assert.match(result.stderr, /sha256/);
    assert.equal(fs.existsSync(path.join(work, 'x', 'member')), false, 'no half-restored member dir is left');
  });
});
