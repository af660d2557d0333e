import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Redlock } from '../../clients/typescript/src/redlock';
import { LocksRpc } from '../../src/cli/locks-rpc';
import { readLocks } from '../../src/cli/locks-scan';
import { EtcdctlSession } from '../support/etcdctl';
import { ServerKind, startServerOfKind, stopAll } from '../support/processes';
import { skipUnlessBinaries } from '../support/skip';

/**
 * A Redlock lock is an ordinary etcd mutex named `redlock/<resource>`: `latchkey locks` shows
 * it with the lease and fencing token the Lock reports, and `etcdctl lock` waits behind it.
 * The same runs against real etcd, since only the public API is used.
 */
/** Polls (bounded) until the queue `name` has `count` waiters: etcdctl offers no event for "queued". */
async function waitForWaiters(endpoint: string, name: string, count: number): Promise<void> {
  const rpc = new LocksRpc(endpoint);
  try {
    for (let poll = 0; poll < 100; poll++) {
      const view = (await readLocks(rpc)).locks.find((entry) => entry.name === name);
      if (view !== undefined && view.waiters.length >= count) return;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`${name} never had ${count} waiters`);
  } finally {
    rpc.close();
  }
}

function describeAgainst(kind: ServerKind): void {
  describe(`Redlock keys are etcd mutexes (${kind})`, { skip: skipUnlessBinaries(kind === 'etcd' ? 'etcd' : 'etcdctl', 'etcdctl') }, () => {
    let endpoint = '';
    before(async () => {
      endpoint = (await startServerOfKind(kind)).endpoint;
    });
    after(stopAll);

    test('latchkey locks lists a Redlock holder with its lease and fencing token', async () => {
      const redlock = new Redlock(endpoint);
      const rpc = new LocksRpc(endpoint);
      try {
        const lock = await redlock.acquire(['invoice-7'], 5000);
        const snapshot = await readLocks(rpc);
        const view = snapshot.locks.find((entry) => entry.name === 'redlock/invoice-7');
        assert.ok(view !== undefined);
        assert.equal(view.holder.leaseId.toString(16), lock.value);
        assert.equal(view.holder.createRevision, lock.fencingToken);
        assert.equal(view.holderGrantedTtlSeconds, 5n);
        await lock.release();
        const afterRelease = await readLocks(rpc);
        assert.equal(afterRelease.locks.find((entry) => entry.name === 'redlock/invoice-7'), undefined);
      } finally {
        rpc.close();
        await redlock.quit();
      }
    });

    test('etcdctl lock on the same name waits for the Redlock holder, and Redlock then sees it as locked', async () => {
      const redlock = new Redlock(endpoint, { retryCount: 0 });
      try {
        const lock = await redlock.acquire(['report'], 5000);
        const etcdctlLock = new EtcdctlSession(endpoint, ['lock', 'redlock/report']);
        await waitForWaiters(endpoint, 'redlock/report', 1);
        assert.deepEqual(etcdctlLock.stdoutLines(), [], 'etcdctl is queued, not holding');
        await lock.release();
        const [key] = await etcdctlLock.waitForLines(1);
        assert.match(key!, /^redlock\/report\/[0-9a-f]+$/);
        await assert.rejects(redlock.acquire(['report'], 5000), { name: 'ExecutionError' });
        await etcdctlLock.process.stop('SIGINT');
        const again = await redlock.acquire(['report'], 5000, { retryCount: 20, retryDelay: 100 });
        await again.release();
      } finally {
        await redlock.quit();
      }
    });
  });
}

describeAgainst('latchkey');
describeAgainst('etcd');
