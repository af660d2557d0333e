import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { EtcdClient, prefixEnd, RpcError } from '../support/etcd-client';
import { etcdctlOk } from '../support/etcdctl';
import { makeTempDir, startCluster, startLatchkey, stopAll } from '../support/processes';
import { skipUnlessBinaries } from '../support/skip';

const QUOTA_BYTES = 2 * 1024 * 1024;
const VALUE = Buffer.alloc(64 * 1024, 'x');
const PREFIX = 'fill/';
const RESOURCE_EXHAUSTED = 8;
const NO_SPACE = 'etcdserver: mvcc: database space exceeded';

async function expectNoSpace(call: Promise<unknown>): Promise<void> {
  await assert.rejects(call, (err: unknown) => err instanceof RpcError && err.code === RESOURCE_EXHAUSTED && err.details === NO_SPACE);
}

/** Polls (bounded) until `check` holds: the alarm is applied through Raft after the refusal. */
async function eventually(check: () => Promise<boolean>, what: string): Promise<void> {
  for (let attempt = 0; attempt < 100; attempt += 1) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  assert.fail(`never happened: ${what}`);
}

describe('--quota-backend-bytes and the NOSPACE alarm', { skip: skipUnlessBinaries('etcdctl') }, () => {
  after(stopAll);

  test('fill the quota, see NOSPACE, free space, disarm, write again', async () => {
    const options = { name: 'quota', dataDir: makeTempDir('quota'), extraArgs: ['--quota-backend-bytes', String(QUOTA_BYTES)] };
    let server = await startLatchkey(options);
    let client = new EtcdClient(server.endpoint);
    try {
      const memberId = BigInt((await client.status()).header.member_id as string);
      let refusedAt = -1;
      for (let i = 0; i < 200 && refusedAt < 0; i += 1) {
        try {
          await client.put({ key: Buffer.from(`${PREFIX}${i}`), value: VALUE });
        } catch (err) {
          assert.ok(err instanceof RpcError, String(err));
          assert.equal(err.code, RESOURCE_EXHAUSTED);
          assert.equal(err.details, NO_SPACE);
          refusedAt = i;
        }
      }
      assert.ok(refusedAt > 0, 'the quota was never reached');

      await eventually(async () => (await etcdctlOk(server.endpoint, ['alarm', 'list'])).includes('alarm:NOSPACE'), 'alarm list shows NOSPACE');
      assert.equal((await etcdctlOk(server.endpoint, ['alarm', 'list'])).trim(), `memberID:${memberId} alarm:NOSPACE`);
      const status = await client.status();
      assert.deepEqual(status.errors, [`memberID:${memberId} alarm:NOSPACE `]);

      // The alarm is applied state in the database: a restart keeps it.
      client.close();
      await server.stop();
      server = await startLatchkey({ ...options, clientPort: server.clientPort, peerPort: server.peerPort });
      client = new EtcdClient(server.endpoint);
      assert.equal((await etcdctlOk(server.endpoint, ['alarm', 'list'])).trim(), `memberID:${memberId} alarm:NOSPACE`);

      // Even a tiny write and a lease grant are refused while the alarm is raised; reads work.
      await expectNoSpace(client.put({ key: Buffer.from('small'), value: Buffer.from('v') }));
      await expectNoSpace(client.leaseGrant({ TTL: 60 }));
      const got = await client.range({ key: Buffer.from(`${PREFIX}0`) });
      assert.equal(got.kvs.length, 1);

      // Free space: delete, compact, defragment. The file shrinks below the quota.
      const sizeFull = BigInt(status.dbSize as string);
      const deleted = await client.deleteRange({ key: Buffer.from(PREFIX), range_end: prefixEnd(PREFIX) });
      assert.equal(Number(deleted.deleted), refusedAt);
      await client.compact({ revision: deleted.header.revision, physical: true });
      await etcdctlOk(server.endpoint, ['defrag']);
      const sizeAfter = BigInt((await client.status()).dbSize as string);
      assert.ok(sizeAfter < sizeFull / 2n, `defrag shrank ${sizeFull} only to ${sizeAfter}`);

      // Still refused until the alarm is disarmed.
      await expectNoSpace(client.put({ key: Buffer.from('small'), value: Buffer.from('v') }));
      const disarmed = await etcdctlOk(server.endpoint, ['alarm', 'disarm']);
      assert.equal(disarmed.trim(), `memberID:${memberId} alarm:NOSPACE`);
      assert.equal((await etcdctlOk(server.endpoint, ['alarm', 'list'])).trim(), '');
      assert.deepEqual((await client.status()).errors ?? [], []);

      const put = await client.put({ key: Buffer.from('small'), value: Buffer.from('v') });
      assert.ok(BigInt(put.header.revision as string) > BigInt(deleted.header.revision as string));
      const lease = await client.leaseGrant({ TTL: 60 });
      assert.ok(BigInt(lease.ID as string) > 0n);
    } finally {
      client.close();
      await server.stop();
    }
  });

  test('in a 3-member cluster the alarm is raised and disarmed for every member through Raft', async () => {
    const members = await startCluster('latchkey', { size: 3, namePrefix: 'quota-m', extraArgs: ['--quota-backend-bytes', String(QUOTA_BYTES)] });
    const clients = members.map((m) => new EtcdClient(m.endpoint));
    try {
      const [first, second, third] = clients as [EtcdClient, EtcdClient, EtcdClient];
      let refused = false;
      for (let i = 0; i < 200 && !refused; i += 1) {
        try {
          await first.put({ key: Buffer.from(`${PREFIX}${i}`), value: VALUE });
        } catch (err) {
          assert.ok(err instanceof RpcError && err.details === NO_SPACE, String(err));
          refused = true;
        }
      }
      assert.ok(refused, 'the quota was never reached');
      const raisedBy = String((await first.status()).header.member_id);
      for (const member of members) {
        await eventually(
          async () => (await etcdctlOk(member.endpoint, ['alarm', 'list'])).trim() === `memberID:${raisedBy} alarm:NOSPACE`,
          `${member.name} lists the alarm`,
        );
      }
      // Another member refuses growth too, while it still serves deletes.
      await expectNoSpace(third.put({ key: Buffer.from('elsewhere'), value: Buffer.from('v') }));
      const deleted = await second.deleteRange({ key: Buffer.from(PREFIX), range_end: prefixEnd(PREFIX) });
      await second.compact({ revision: deleted.header.revision, physical: true });
      // Defragment is per member, as in etcd: every member's file must shrink below the quota.
      await etcdctlOk(members.map((m) => m.endpoint), ['defrag']);
      assert.equal((await etcdctlOk(members[1]!.endpoint, ['alarm', 'disarm'])).trim(), `memberID:${raisedBy} alarm:NOSPACE`);
      for (const member of members) {
        await eventually(async () => (await etcdctlOk(member.endpoint, ['alarm', 'list'])).trim() === '', `${member.name} cleared the alarm`);
      }
      await third.put({ key: Buffer.from('elsewhere'), value: Buffer.from('v') });
    } finally {
      for (const c of clients) c.close();
      await Promise.all(members.map((m) => m.stop('SIGKILL')));
    }
  });
});
