import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Client, Mutex, Session } from '../../clients/typescript/src';
import { startCluster, stopAll, type ServerProcess } from '../support/processes';
import { FencedResource } from './fencing-resource';

const CLIENTS = 20;
const ACQUISITIONS = 80;
const RUN_BOUND_MS = 60_000;
const TIMING = ['--heartbeat-interval', '100', '--election-timeout', '1000'];

describe('20 clients contend for one lock on a 3-member cluster', () => {
  let members: ServerProcess[] = [];
  before(async () => {
    members = await startCluster('latchkey', { size: 3, namePrefix: 'contend', extraArgs: TIMING });
  });
  after(async () => {
    await Promise.all(members.map((m) => m.stop('SIGKILL')));
    await stopAll();
  });

  test('one holder at a time, fencing tokens only rise, grants follow create-revision order', { timeout: 120_000 }, async () => {
    const resource = new FencedResource();
    const grants: Array<{ holder: number; token: bigint }> = [];
    let remaining = ACQUISITIONS;
    const startedMs = Date.now();
    const clients = Array.from({ length: CLIENTS }, (_, i) => {
      // Spread the clients over the members: every member serves lock traffic.
      const endpoints = [members[i % 3]!.endpoint, members[(i + 1) % 3]!.endpoint];
      return new Client({ endpoints, callTimeoutMs: 10_000, retryBaseDelayMs: 50, retryMaxDelayMs: 500 });
    });
    try {
      await Promise.all(
        clients.map(async (client, holder) => {
          const session = await Session.create(client, { ttlSeconds: 10 });
          const mutex = new Mutex(session, 'contended');
          while (remaining > 0 && Date.now() - startedMs < RUN_BOUND_MS) {
            await mutex.lock({ timeoutMs: 30_000 });
            remaining -= 1;
            const token = mutex.fencingToken;
            grants.push({ holder, token });
            resource.enter(holder, token);
            assert.equal(resource.write(holder, token), true, `holder ${holder} with token ${token} was refused`);
            await new Promise((resolve) => setImmediate(resolve));
            resource.leave(holder);
            await mutex.unlock();
          }
          await session.close();
        }),
      );
    } finally {
      for (const client of clients) client.close();
    }
    assert.ok(grants.length >= ACQUISITIONS, `only ${grants.length} grants in the bounded run`);
    assert.deepEqual(resource.overlaps, [], 'two holders overlapped');
    assert.deepEqual(resource.rejected, [], 'a lower token came after a higher one');
    // Grant order is create-revision order: each holder's token (its key's create revision)
    // is above every earlier holder's.
    for (let i = 1; i < grants.length; i++) {
      assert.ok(grants[i]!.token > grants[i - 1]!.token, `grant ${i} token ${grants[i]!.token} after ${grants[i - 1]!.token}`);
    }
    const holders = new Set(grants.map((g) => g.holder));
    assert.ok(holders.size >= CLIENTS / 2, `only ${holders.size} distinct holders got the lock`);
  });
});
