import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  Client,
  Election,
  KeyValue,
  NoElectionLeaderError,
  NotElectionLeaderError,
  Session,
  TimeoutError,
} from '../../clients/typescript/src';
import { EtcdctlSession } from '../support/etcdctl';
import { ServerProcess, startServerOfKind, stopAll } from '../support/processes';
import { skipUnlessBinaries } from '../support/skip';
import { clientTargets, newClient, waitFor, within } from './harness';

/** Reads `count` values from an observe() iterator (bounded), then stops it. */
async function observeValues(iterator: AsyncGenerator<KeyValue>, count: number, timeoutMs = 15_000): Promise<string[]> {
  const values: string[] = [];
  const read = (async () => {
    for (let index = 0; index < count; index++) {
      const next = await iterator.next();
      if (next.done) break;
      values.push(next.value.value.toString());
    }
  })();
  await within(read, timeoutMs, `${count} observed values (got ${values.join(', ')})`);
  return values;
}

for (const kind of clientTargets()) {
  describe(`latchkey-client Election against ${kind}`, { skip: skipUnlessBinaries('etcd', 'etcdctl') }, () => {
    let server: ServerProcess;
    let client: Client;
    const sessions: Session[] = [];

    async function newSession(): Promise<Session> {
      const session = await Session.create(client, { ttlSeconds: 10 });
      sessions.push(session);
      return session;
    }

    before(async () => {
      server = await startServerOfKind(kind, { name: `celect-${kind}` });
      client = newClient([server.endpoint]);
    });
    after(async () => {
      await Promise.allSettled(sessions.map((session) => session.close()));
      client?.close();
      await stopAll();
    });

    test('campaign, proclaim, resign, leader and observe', { timeout: 30_000 }, async () => {
      const alpha = new Election(await newSession(), 'office');
      const beta = new Election(await newSession(), 'office');
      await assert.rejects(alpha.leader(), NoElectionLeaderError);
      await assert.rejects(alpha.proclaim('not a candidate'), NotElectionLeaderError);

      const stopObserving = new AbortController();
      const observer = new Election(await newSession(), 'office').observe(stopObserving.signal);
      const firstSeen = observeValues(observer, 1);

      await alpha.campaign('alpha-1');
      assert.equal(alpha.isLeader, true);
      assert.deepEqual(await firstSeen, ['alpha-1']);
      assert.equal((await beta.leader()).value.toString(), 'alpha-1');

      const betaElected = beta.campaign('beta-1', { timeoutMs: 20_000 });
      await waitFor(async () => (await client.kv.range('office/', { prefix: true, countOnly: true })).count === 2n);
      await alpha.proclaim('alpha-2');
      assert.equal((await beta.leader()).value.toString(), 'alpha-2');
      const proclaimed = observeValues(observer, 2);
      await alpha.resign();
      await within(betaElected, 10_000, 'beta elected after alpha resigned');
      assert.deepEqual(await proclaimed, ['alpha-2', 'beta-1']);
      assert.equal((await alpha.leader()).key.toString(), beta.key);
      assert.equal(beta.key, `office/${beta.session.leaseId.toString(16)}`);

      stopObserving.abort();
      await beta.resign();
      await assert.rejects(beta.leader(), NoElectionLeaderError);
    });

    test('campaign with a timeout resigns its candidacy', { timeout: 20_000 }, async () => {
      const leader = new Election(await newSession(), 'timed');
      await leader.campaign('leader');
      const candidate = new Election(await newSession(), 'timed');
      await assert.rejects(candidate.campaign('candidate', { timeoutMs: 300 }), TimeoutError);
      const keys = await client.kv.range('timed/', { prefix: true });
      assert.deepEqual(keys.kvs.map((kv) => kv.key.toString()), [leader.key]);
      await leader.resign();
    });

    test('`etcdctl elect` and Election see the same leader', { timeout: 40_000 }, async () => {
      const ctl = new EtcdctlSession(server.endpoint, ['elect', 'mixed', 'from-etcdctl']);
      const [ctlKey] = await ctl.waitForLines(2);
      assert.match(ctlKey!, /^mixed\/[0-9a-f]+$/);
      const ours = new Election(await newSession(), 'mixed');
      const leader = await ours.leader();
      assert.equal(leader.key.toString(), ctlKey);
      assert.equal(leader.value.toString(), 'from-etcdctl');

      const elected = ours.campaign('from-client', { timeoutMs: 20_000 });
      await waitFor(async () => (await client.kv.range('mixed/', { prefix: true, countOnly: true })).count === 2n);
      const ctlObserver = new EtcdctlSession(server.endpoint, ['elect', '-l', 'mixed']);
      await ctlObserver.waitForLine((line) => line === 'from-etcdctl');
      await ctl.stop('SIGTERM'); // etcdctl resigns on SIGTERM
      await within(elected, 15_000, 'Election.campaign after etcdctl resigned');
      await ctlObserver.waitForLine((line) => line === 'from-client');
      assert.ok(ctlObserver.stdoutLines().includes(ours.key), 'etcdctl observer printed our key');
      await ours.proclaim('proclaimed');
      await ctlObserver.waitForLine((line) => line === 'proclaimed');
      await ctlObserver.stop('SIGTERM');
      await ours.resign();
    });
  });
}
