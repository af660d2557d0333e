import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Client, fencedPut, Mutex, Session, UnavailableError, WatchEvent } from '../../clients/typescript/src';
import { Clients, stableLeader, TIMING_ARGS } from '../cluster/harness';
import { ServerProcess, startCluster, stopAll } from '../support/processes';
import { skipUnlessBinaries } from '../support/skip';
import { clientTargets, newClient, nextEvent, waitFor } from './harness';

/**
 * A 3-member cluster and a client that knows every endpoint: when the member it talks to
 * dies, calls, the watch stream and the keepalive stream move to the next endpoint, and the
 * lock held through the session survives.
 */
for (const kind of clientTargets()) {
  describe(`latchkey-client failover in a 3-member ${kind} cluster`, { skip: skipUnlessBinaries('etcd') }, () => {
    const statusClients = new Clients();
    let members: ServerProcess[] = [];
    let client: Client | undefined;

    before(async () => {
      members = await startCluster(kind, { size: 3, namePrefix: `cfo-${kind}`, extraArgs: TIMING_ARGS });
    });
    after(async () => {
      client?.close();
      statusClients.closeAll();
      await Promise.all(members.map((member) => member.stop('SIGKILL')));
      await stopAll();
    });

    test('killing the member in use: KV, watch, keepalive and the held lock carry on', { timeout: 60_000 }, async () => {
      const view = await stableLeader(statusClients, members, 20_000);
      const [first, second] = view.followers;
      client = newClient([first!.endpoint, second!.endpoint, view.leader.endpoint]);

      const session = await Session.create(client, { ttlSeconds: 5 });
      const mutex = new Mutex(session, 'cluster-lock');
      await mutex.lock({ timeoutMs: 10_000 });
      const watch = await client.watch('cl/', { prefix: true });
      const seen: string[] = [];
      watch.on('events', (batch: WatchEvent[]) => seen.push(...batch.map((event) => event.kv.key.toString())));
      await client.kv.put('cl/1', 'before');
      await waitFor(async () => seen.length === 1);

      statusClients.forget(first!);
      await first!.kill9();
      // A write already queued on the dead connection fails with UNAVAILABLE ("Connection
      // dropped") and is not retried by the client, since it might have been applied; the
      // application retries it, as it would against etcd's own client.
      for (let attempt = 0; ; attempt++) {
        try {
          await client.kv.put('cl/2', 'after');
          break;
        } catch (err) {
          if (!(err instanceof UnavailableError) || attempt >= 2) throw err;
        }
      }
      assert.equal((await client.kv.get('cl/2'))?.value.toString(), 'after');
      await waitFor(async () => seen.length === 2, 15_000);
      assert.deepEqual(seen, ['cl/1', 'cl/2']);

      // Two renewals after the kill: the keepalive stream reached a live member.
      await nextEvent(session.lease, 'renewed', 10_000);
      await nextEvent(session.lease, 'renewed', 10_000);
      assert.equal(session.isExpired, false);
      assert.equal(await fencedPut(client.kv, mutex, 'cl-resource', 'still the holder'), true);
      await watch.cancel();
      await mutex.unlock();
      await session.close();
    });
  });
}
