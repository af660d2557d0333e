import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  AbortedError,
  Client,
  fencedPut,
  fencedTxn,
  LeaseLostError,
  Mutex,
  Session,
  TimeoutError,
} from '../../clients/typescript/src';
import { EtcdctlSession } from '../support/etcdctl';
import { ServerProcess, startServerOfKind, stopAll } from '../support/processes';
import { skipUnlessBinaries } from '../support/skip';
import { clientTargets, newClient, nextEvent, waitFor, within } from './harness';

const CONTENDERS = 5;

for (const kind of clientTargets()) {
  describe(`latchkey-client Mutex against ${kind}`, { skip: skipUnlessBinaries('etcd', 'etcdctl') }, () => {
    let server: ServerProcess;
    let client: Client;
    const sessions: Session[] = [];

    async function newSession(): Promise<Session> {
      const session = await Session.create(client, { ttlSeconds: 10 });
      sessions.push(session);
      return session;
    }

    async function keysUnder(prefix: string): Promise<string[]> {
      const result = await client.kv.range(prefix, { prefix: true, keysOnly: true });
      return result.kvs.map((kv) => kv.key.toString());
    }

    before(async () => {
      server = await startServerOfKind(kind, { name: `cmutex-${kind}` });
      client = newClient([server.endpoint]);
    });
    after(async () => {
      await Promise.allSettled(sessions.map((session) => session.close()));
      client?.close();
      await stopAll();
    });

    test(`${CONTENDERS} contenders: one holder at a time, fencing tokens increase in grant order`, { timeout: 30_000 }, async () => {
      let holders = 0;
      let maxHolders = 0;
      const grants: Array<{ contender: number; token: bigint }> = [];
      const contend = async (contender: number): Promise<void> => {
        const mutex = new Mutex(await newSession(), 'five');
        await mutex.lock({ timeoutMs: 20_000 });
        holders++;
        maxHolders = Math.max(maxHolders, holders);
        grants.push({ contender, token: mutex.fencingToken });
        // Work inside the critical section that yields to the event loop.
        assert.equal(await fencedPut(client.kv, mutex, 'five-resource', `by ${contender}`), true);
        holders--;
        await mutex.unlock();
      };
      await Promise.all(Array.from({ length: CONTENDERS }, (_, contender) => contend(contender)));
      assert.equal(maxHolders, 1);
      assert.equal(grants.length, CONTENDERS);
      for (let index = 1; index < grants.length; index++) {
        assert.ok(grants[index]!.token > grants[index - 1]!.token, `tokens in grant order: ${grants.map((grant) => grant.token).join(', ')}`);
      }
      assert.deepEqual(await keysUnder('five/'), []);
    });

    test('the lock key is NAME/<lease hex> and the token is its create revision', { timeout: 20_000 }, async () => {
      const session = await newSession();
      const mutex = new Mutex(session, 'layout');
      await mutex.lock();
      assert.equal(mutex.key, `layout/${session.leaseId.toString(16)}`);
      const kv = await client.kv.get(mutex.key);
      assert.equal(kv?.createRevision, mutex.fencingToken);
      assert.equal(kv?.lease, session.leaseId);
      assert.equal(kv?.value.length, 0);
      await mutex.unlock();
      assert.equal(await client.kv.get('layout/' + session.leaseId.toString(16)), undefined);
    });

    test('tryLock fails while another session holds the lock, and leaves no key', { timeout: 20_000 }, async () => {
      const holder = new Mutex(await newSession(), 'try');
      const other = new Mutex(await newSession(), 'try');
      assert.equal(await holder.tryLock(), true);
      assert.equal(await other.tryLock(), false);
      assert.deepEqual(await keysUnder('try/'), [holder.key]);
      await holder.unlock();
      assert.equal(await other.tryLock(), true);
      await other.unlock();
    });

    test('lock with a timeout or an aborted signal rejects and removes its queued key', { timeout: 20_000 }, async () => {
      const holder = new Mutex(await newSession(), 'bounded');
      await holder.lock();
      const waiter = new Mutex(await newSession(), 'bounded');
      await assert.rejects(waiter.lock({ timeoutMs: 300 }), TimeoutError);
      assert.deepEqual(await keysUnder('bounded/'), [holder.key]);

      const abort = new AbortController();
      const pending = waiter.lock({ signal: abort.signal });
      await waitFor(async () => (await keysUnder('bounded/')).length === 2);
      abort.abort();
      await assert.rejects(pending, AbortedError);
      assert.deepEqual(await keysUnder('bounded/'), [holder.key]);
      await holder.unlock();
    });

    test('`etcdctl lock` and Mutex on the same name exclude each other', { timeout: 40_000 }, async () => {
      const ctl = new EtcdctlSession(server.endpoint, ['lock', 'shared-lock']);
      const ctlKey = await ctl.waitForLine((line) => line.startsWith('shared-lock/'));
      const mutex = new Mutex(await newSession(), 'shared-lock');
      assert.equal(await mutex.tryLock(), false, 'etcdctl holds it');
      const acquired = mutex.lock({ timeoutMs: 15_000 });
      await waitFor(async () => (await keysUnder('shared-lock/')).length === 2);
      await ctl.stop('SIGTERM'); // etcdctl deletes its key on SIGTERM
      await within(acquired, 15_000, 'Mutex.lock after etcdctl released');
      const ctlRevision = (await client.kv.range('shared-lock/', { prefix: true })).kvs.find((kv) => kv.key.toString() === ctlKey);
      assert.equal(ctlRevision, undefined, 'etcdctl key is gone');

      const second = new EtcdctlSession(server.endpoint, ['lock', 'shared-lock']);
      await waitFor(async () => (await keysUnder('shared-lock/')).length === 2);
      assert.deepEqual(second.stdoutLines(), [], 'etcdctl waits while the Mutex holds');
      await mutex.unlock();
      const secondKey = await second.waitForLine((line) => line.startsWith('shared-lock/'), 15_000);
      assert.notEqual(secondKey, mutex.key);
      await second.stop('SIGTERM');
    });

    test('a fenced write is refused after the lock was lost, though the holder still has its token', { timeout: 20_000 }, async () => {
      const session = await newSession();
      const mutex = new Mutex(session, 'fenced');
      await mutex.lock();
      const staleToken = { key: mutex.key, fencingToken: mutex.fencingToken };
      assert.equal(await fencedPut(client.kv, staleToken, 'fenced-resource', 'first'), true);

      const lost = nextEvent<[LeaseLostError]>(session, 'expired');
      await client.leases.revoke(session.leaseId); // e.g. a long pause let the lease lapse
      await lost;
      // The Mutex object still reports its key and token: only the fence notices.
      assert.equal(mutex.fencingToken, staleToken.fencingToken);
      assert.equal(await fencedPut(client.kv, mutex, 'fenced-resource', 'stale write'), false);
      assert.equal((await client.kv.get('fenced-resource'))?.value.toString(), 'first');

      const successor = new Mutex(await newSession(), 'fenced');
      await successor.lock();
      assert.ok(successor.fencingToken > staleToken.fencingToken);
      const result = await fencedTxn(client.kv, successor, [{ put: { key: 'fenced-resource', value: 'second' } }]);
      assert.equal(result.applied, true);
      assert.equal(await fencedPut(client.kv, staleToken, 'fenced-resource', 'stale again'), false);
      assert.equal((await client.kv.get('fenced-resource'))?.value.toString(), 'second');
      await successor.unlock();
    });
  });
}
