import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { ExecutionError, Redlock } from '../../clients/typescript/src/redlock';
import { EtcdClient } from '../support/etcd-client';
import { startLatchkey, stopAll } from '../support/processes';

/** Behaviour of latchkey's Redlock beyond the shared contract: leases, tokens, lost locks. */
describe('latchkey Redlock: leases and fencing tokens', () => {
  let endpoint = '';
  let etcd: EtcdClient;
  before(async () => {
    endpoint = (await startLatchkey()).endpoint;
    etcd = new EtcdClient(endpoint);
  });
  after(async () => {
    etcd.close();
    await stopAll();
  });

  test('the lease TTL is the duration rounded up to whole seconds; value is the lease id in hex', async () => {
    const redlock = new Redlock(endpoint);
    try {
      const lock = await redlock.acquire(['ttl'], 2500);
      assert.equal(lock.leaseTtlSeconds, 3);
      assert.equal(lock.value, lock.leaseId.toString(16));
      const ttl = await etcd.leaseTimeToLive({ ID: lock.leaseId.toString() });
      assert.equal(ttl.grantedTTL, '3');
      await lock.release();
      const gone = await etcd.leaseTimeToLive({ ID: lock.leaseId.toString() });
      assert.equal(gone.TTL, '-1', 'release revokes the lease');
    } finally {
      await redlock.quit();
    }
  });

  test('every resource of a multi-resource lock has its own token; fencingToken is the highest', async () => {
    const redlock = new Redlock([endpoint]);
    try {
      const lock = await redlock.acquire(['m-b', 'm-a'], 2000);
      const tokens = lock.fencingTokens;
      assert.deepEqual([...tokens.keys()].sort(), ['m-a', 'm-b']);
      assert.ok(tokens.get('m-a')! < tokens.get('m-b')!, 'resources are locked in sorted order');
      assert.equal(lock.fencingToken, tokens.get('m-b'));
      const next = await (async () => {
        await lock.release();
        return redlock.acquire(['m-a'], 2000);
      })();
      assert.ok(next.fencingToken > lock.fencingToken, 'a later holder always gets a higher token');
      await next.release();
    } finally {
      await redlock.quit();
    }
  });

  test('extending beyond the lease TTL moves the keys to a longer lease and keeps the fencing token', async () => {
    const holder = new Redlock(endpoint);
    const other = new Redlock(endpoint, { retryCount: 0 });
    try {
      const lock = await holder.acquire(['long'], 2000);
      const extended = await lock.extend(6000);
      assert.equal(extended.leaseTtlSeconds, 6);
      assert.notEqual(extended.leaseId, lock.leaseId);
      assert.equal(extended.fencingToken, lock.fencingToken);
      assert.equal(extended.value, lock.value);
      const oldLease = await etcd.leaseTimeToLive({ ID: lock.leaseId.toString() });
      assert.equal(oldLease.TTL, '-1', 'the old lease is revoked without taking the keys along');
      await new Promise((resolve) => setTimeout(resolve, 2500)); // past the first lease's TTL
      await assert.rejects(other.acquire(['long'], 2000), ExecutionError);
      assert.equal(await extended.fencedPut('long-data', 'ok'), true);
      await extended.release();
    } finally {
      await Promise.all([holder.quit(), other.quit()]);
    }
  });

  test('using aborts the routine\'s signal when the lock is lost and cannot be extended', async () => {
    const redlock = new Redlock(endpoint, { retryCount: 0, retryDelay: 50 });
    let lost: Error | undefined;
    await assert.rejects(
      redlock.using(['lost'], 2000, { automaticExtensionThreshold: 1000 }, async (signal) => {
        // An operator revokes the lease (or the cluster expires it): the lock is gone.
        const [held] = (await etcd.range({ key: Buffer.from('redlock/lost/'), range_end: Buffer.from('redlock/lost0') })).kvs;
        await etcd.leaseRevoke({ ID: held.lease });
        await once(signal, 'abort');
        lost = signal.error;
      }),
      ExecutionError,
      'releasing a lost lock fails, as redlock\'s release of an expired lock does',
    );
    assert.ok(lost instanceof Error);
    await redlock.quit();
  });
});
