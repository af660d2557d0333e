import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  Client,
  LeaseLostError,
  Mutex,
  Session,
  SessionExpiredError,
  WatchEvent,
} from '../../clients/typescript/src';
import { ServerProcess, startServerOfKind, stopAll } from '../support/processes';
import { skipUnlessBinaries } from '../support/skip';
import { clientTargets, newClient, nextEvent, waitFor, within } from './harness';
import { CuttableProxy } from './proxy';

/**
 * Broken connections without a server restart: a proxy cuts the client's streams while
 * another client keeps writing, so the events of the outage must be replayed exactly once.
 */
for (const kind of clientTargets()) {
  describe(`latchkey-client reconnects against ${kind}`, { skip: skipUnlessBinaries('etcd') }, () => {
    let server: ServerProcess;
    let direct: Client;
    let proxy: CuttableProxy;

    before(async () => {
      server = await startServerOfKind(kind, { name: `crecon-${kind}` });
      direct = newClient([server.endpoint]);
      proxy = await CuttableProxy.start(server.clientPort);
    });
    after(async () => {
      direct?.close();
      await proxy?.close();
      await stopAll();
    });

    test('a watch cut mid-stream replays the outage exactly once', { timeout: 30_000 }, async () => {
      const viaProxy = newClient([proxy.endpoint]);
      try {
        const watch = await viaProxy.watch('outage/', { prefix: true });
        const seen: WatchEvent[] = [];
        watch.on('events', (batch: WatchEvent[]) => seen.push(...batch));
        await direct.kv.put('outage/1', 'a');
        await waitFor(async () => seen.length === 1);
        proxy.cut(true);
        for (let index = 2; index <= 5; index++) await direct.kv.put(`outage/${index}`, 'b');
        await direct.kv.delete('outage/1');
        proxy.resume();
        await waitFor(async () => seen.length >= 6, 15_000);
        await direct.kv.put('outage/6', 'c');
        await waitFor(async () => seen.length >= 7, 10_000);
        await watch.cancel();
        assert.deepEqual(
          seen.map((event) => `${event.type} ${event.kv.key.toString()}`),
          ['put outage/1', 'put outage/2', 'put outage/3', 'put outage/4', 'put outage/5', 'delete outage/1', 'put outage/6'],
        );
      } finally {
        viaProxy.close();
      }
    });

    test('a watch fails over to the next endpoint when its endpoint goes away', { timeout: 30_000 }, async () => {
      const twoEndpoints = newClient([proxy.endpoint, server.endpoint]);
      try {
        const watch = await twoEndpoints.watch('failover/', { prefix: true });
        const seen: string[] = [];
        watch.on('events', (batch: WatchEvent[]) => seen.push(...batch.map((event) => event.kv.key.toString())));
        proxy.cut(true);
        await direct.kv.put('failover/a', '1');
        await direct.kv.put('failover/b', '2');
        await waitFor(async () => seen.length >= 2, 15_000);
        assert.deepEqual(seen, ['failover/a', 'failover/b']);
        assert.equal((await twoEndpoints.kv.get('failover/b'))?.value.toString(), '2');
        await watch.cancel();
      } finally {
        proxy.resume();
        twoEndpoints.close();
      }
    });

    test('a keepalive that gets no reply within the TTL reports the lease lost', { timeout: 30_000 }, async () => {
      const viaProxy = newClient([proxy.endpoint], { maxRetries: 1 });
      try {
        const lease = await viaProxy.lease(2);
        const lost = nextEvent<[LeaseLostError]>(lease, 'lost', 10_000);
        proxy.cut(true);
        const [error] = await lost;
        assert.equal(error.reason, 'timeout');
      } finally {
        proxy.resume();
        viaProxy.close();
      }
    });

    test('a keepalive stream cut briefly is reopened and the lease survives', { timeout: 30_000 }, async () => {
      const viaProxy = newClient([proxy.endpoint]);
      try {
        const lease = await viaProxy.lease(3);
        await nextEvent(lease, 'renewed');
        proxy.cut(false); // connections drop; reconnects are allowed at once
        await nextEvent(lease, 'renewed', 5_000);
        assert.equal(lease.isLost, false);
        await lease.revoke();
      } finally {
        viaProxy.close();
      }
    });

    test('a lock waiter whose session expires stops waiting with SessionExpiredError', { timeout: 30_000 }, async () => {
      const holder = new Mutex(await Session.create(direct, { ttlSeconds: 10 }), 'expiring');
      await holder.lock();
      const waiterSession = await Session.create(direct, { ttlSeconds: 10 });
      const waiting = new Mutex(waiterSession, 'expiring').lock({ timeoutMs: 20_000 });
      await waitFor(async () => (await direct.kv.range('expiring/', { prefix: true, countOnly: true })).count === 2n);
      await direct.leases.revoke(waiterSession.leaseId);
      await assert.rejects(within(waiting, 10_000, 'waiter rejected'), SessionExpiredError);
      await holder.session.close();
      assert.equal((await direct.kv.range('expiring/', { prefix: true, countOnly: true })).count, 0n);
    });
  });
}
