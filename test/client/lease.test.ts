import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Client, LeaseLostError, LeaseNotFoundError } from '../../clients/typescript/src';
import { ServerProcess, startServerOfKind, stopAll } from '../support/processes';
import { skipUnlessBinaries } from '../support/skip';
import { clientTargets, elapse, newClient, nextEvent } from './harness';

for (const kind of clientTargets()) {
  describe(`latchkey-client Lease against ${kind}`, { skip: skipUnlessBinaries('etcd') }, () => {
    let server: ServerProcess;
    let client: Client;

    before(async () => {
      server = await startServerOfKind(kind, { name: `clease-${kind}` });
      client = newClient([server.endpoint]);
    });
    after(async () => {
      client?.close();
      await stopAll();
    });

    test('keepalive keeps a 2 s lease and its key alive well past the TTL', { timeout: 20_000 }, async () => {
      const lease = await client.lease(2);
      assert.equal(lease.ttlSeconds, 2);
      assert.equal(typeof lease.id, 'bigint');
      let renewals = 0;
      lease.on('renewed', () => renewals++);
      await client.kv.put('leased/key', 'alive', { lease: lease.id });
      await elapse(4_500); // over twice the TTL: only renewals can keep it
      const kv = await client.kv.get('leased/key');
      assert.equal(kv?.value.toString(), 'alive');
      assert.equal(kv?.lease, lease.id);
      assert.ok(renewals >= 4, `renewed ${renewals} times`);
      assert.equal(lease.isLost, false);
      const ttl = await client.leases.timeToLive(lease.id, true);
      assert.ok(ttl.ttlSeconds > 0);
      assert.deepEqual(ttl.keys.map((key) => key.toString()), ['leased/key']);
      await lease.revoke();
      assert.equal(await client.kv.get('leased/key'), undefined);
    });

    test('`lost` fires when another client revokes the lease', { timeout: 20_000 }, async () => {
      const lease = await client.lease(3);
      await client.kv.put('revoked/key', 'v', { lease: lease.id });
      const other = newClient([server.endpoint]);
      try {
        const lost = nextEvent<[LeaseLostError]>(lease, 'lost', 10_000);
        await other.leases.revoke(lease.id);
        const [error] = await lost;
        assert.ok(error instanceof LeaseLostError);
        assert.equal(error.reason, 'expired');
        assert.equal(lease.isLost, true);
        assert.equal(await client.kv.get('revoked/key'), undefined);
        await assert.rejects(other.leases.revoke(lease.id), LeaseNotFoundError);
      } finally {
        other.close();
      }
    });

    test('revoke() ends the keepalive and reports the lease as revoked', { timeout: 20_000 }, async () => {
      const lease = await client.lease(5);
      const lost = nextEvent<[LeaseLostError]>(lease, 'lost');
      await lease.revoke();
      assert.equal((await lost)[0].reason, 'revoked');
      const ttl = await client.leases.timeToLive(lease.id);
      assert.equal(ttl.ttlSeconds, -1);
      await lease.revoke(); // already gone: not an error
    });
  });
}
