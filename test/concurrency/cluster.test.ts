import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { EtcdClient } from '../support/etcd-client';
import { EtcdctlSession } from '../support/etcdctl';
import { startCluster, stopAll, type ServerKind, type ServerProcess } from '../support/processes';
import { skipUnlessBinaries } from '../support/skip';
import { ConcurrencyClient } from './concurrency-client';
import { awaitEvent, hexOf, putOf, stillPending } from './wire-helpers';

/**
 * Lock and election across the members of a 3-member cluster: the services run against the
 * member they are called on, so a waiter on one member is released by an unlock on another,
 * and an observer on a third member sees the same leaders.
 */
for (const kind of ['etcd', 'latchkey'] as ServerKind[]) {
  describe(`v3lock/v3election across a 3-member ${kind} cluster`, { skip: skipUnlessBinaries('etcd', 'etcdctl') }, () => {
    let members: ServerProcess[] = [];
    const clients: ConcurrencyClient[] = [];
    const kvs: EtcdClient[] = [];
    before(async () => {
      members = await startCluster(kind, { size: 3, namePrefix: `cc-${kind}-` });
      for (const member of members) {
        clients.push(new ConcurrencyClient(member.endpoint));
        kvs.push(new EtcdClient(member.endpoint));
      }
    });
    after(async () => {
      for (const client of clients) client.close();
      for (const kv of kvs) kv.close();
      await Promise.all(members.map((member) => member.stop('SIGKILL')));
      await stopAll();
    });

    test('a Lock waiting on one member is granted by an Unlock on another, after etcdctl on a third lets go', { timeout: 60_000 }, async () => {
      const [m0, m1, m2] = [0, 1, 2].map((i) => ({ client: clients[i]!, kv: kvs[i]! }));
      const holder = new EtcdctlSession(members[2]!.endpoint, ['lock', 'CL']);
      const [holderKey] = await holder.waitForLines(1, 20_000);
      const a: string = (await m0!.kv.leaseGrant({ TTL: 30 })).ID;
      const b: string = (await m1!.kv.leaseGrant({ TTL: 30 })).ID;
      const first = m0!.client.lock('CL', a, { deadlineMs: 30_000 });
      await awaitEvent(m2!.kv, 'CL/', putOf(`CL/${hexOf(a)}`));
      const second = m1!.client.lock('CL', b, { deadlineMs: 30_000 });
      await awaitEvent(m2!.kv, 'CL/', putOf(`CL/${hexOf(b)}`));
      assert.equal(await stillPending(first, m0!.kv), true, `${holderKey} holds the lock`);
      await holder.stop('SIGINT');
      const held = await first;
      assert.equal(await stillPending(second, m1!.kv), true);
      await m2!.client.unlock(held.key);
      const next = await second;
      assert.equal(Buffer.from(next.key).toString(), `CL/${hexOf(b)}`);
      await m0!.client.unlock(next.key);
    });

    test('Campaign on one member, Observe and Leader on the others see the same leaders', { timeout: 60_000 }, async () => {
      const observer = clients[2]!.observe('CE');
      try {
        const a: string = (await kvs[0]!.leaseGrant({ TTL: 30 })).ID;
        const b: string = (await kvs[1]!.leaseGrant({ TTL: 30 })).ID;
        const won = await clients[0]!.campaign('CE', a, 'first');
        assert.equal(Buffer.from((await observer.next(10_000)).kv.value).toString(), 'first');
        const next = clients[1]!.campaign('CE', b, 'second', { deadlineMs: 30_000 });
        await awaitEvent(kvs[2]!, 'CE/', putOf(`CE/${hexOf(b)}`));
        await clients[2]!.proclaim(won.leader, 'first again');
        assert.equal(Buffer.from((await observer.next(10_000)).kv.value).toString(), 'first again');
        assert.equal(Buffer.from((await clients[1]!.leader('CE')).kv.value).toString(), 'first again');
        await clients[1]!.resign(won.leader);
        const nextWon = await next;
        assert.equal(Buffer.from((await observer.next(10_000)).kv.value).toString(), 'second');
        assert.equal(Buffer.from((await clients[0]!.leader('CE')).kv.key).toString(), Buffer.from(nextWon.leader.key).toString());
        await clients[0]!.resign(nextWon.leader);
      } finally {
        observer.close();
      }
    });
  });
}
