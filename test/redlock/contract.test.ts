import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startLatchkey, stopAll } from '../support/processes';
import { Implementation, RedlockLike, elapse, latchkeyImplementation, redisImplementation } from './implementations';

/**
 * One scenario table, run unchanged against the real `redlock` (over ioredis-mock) and
 * against latchkey's Redlock (over a latchkey process): a service that swaps the import sees
 * the same behaviour.
 */

interface Scenario {
  name: string;
  run(impl: Implementation, resource: (name: string) => string, clients: RedlockLike[]): Promise<void>;
}

const noRetry = { retryCount: 0 };

const scenarios: Scenario[] = [
  {
    name: 'acquire returns a lock on the resources; release frees it',
    async run(impl, resource, clients) {
      const a = track(clients, impl.client());
      const before = Date.now();
      const lock = await a.acquire([resource('r')], impl.durationMs);
      assert.deepEqual(lock.resources, [resource('r')]);
      assert.equal(typeof lock.value, 'string');
      assert.ok(lock.value.length > 0);
      assert.equal(lock.attempts.length, 1);
      assert.ok(lock.expiration > before && lock.expiration <= before + impl.durationMs + 50, `expiration ${lock.expiration - before} ms`);
      const stats = await lock.attempts[0]!;
      assert.equal(stats.votesFor.size, stats.quorumSize);
      await lock.release();
      assert.equal(lock.expiration, 0);
    },
  },
  {
    name: 'a second acquire fails while the lock is held (retryCount 0 → ExecutionError)',
    async run(impl, resource, clients) {
      const [a, b] = [track(clients, impl.client()), track(clients, impl.client())];
      const lock = await a.acquire([resource('r')], impl.durationMs);
      const errors: Error[] = [];
      b.on('error', (error) => errors.push(error));
      await assert.rejects(b.acquire([resource('r')], impl.durationMs, noRetry), (error: unknown) => {
        assert.ok(error instanceof impl.ExecutionError);
        assert.equal((error as Error).name, 'ExecutionError');
        assert.equal((error as Error).message, 'The operation was unable to achieve a quorum during its retry window.');
        assert.equal((error as unknown as { attempts: unknown[] }).attempts.length, 1);
        return true;
      });
      // redlock also reports its clean-up release of the failed attempt, hence "at least".
      assert.ok(errors.length >= 1);
      assert.ok(errors[0] instanceof impl.ResourceLockedError, `error event: ${errors[0]}`);
      await lock.release();
    },
  },
  {
    name: 'every retry is one attempt; the votes against carry ResourceLockedError',
    async run(impl, resource, clients) {
      const [a, b] = [track(clients, impl.client()), track(clients, impl.client())];
      const lock = await a.acquire([resource('r')], impl.durationMs);
      const error = await b.acquire([resource('r')], impl.durationMs, { retryCount: 2, retryDelay: 20, retryJitter: 0 }).then(
        () => assert.fail('acquired a held lock'),
        (thrown: unknown) => thrown as { attempts: ReadonlyArray<Promise<{ votesAgainst: Map<unknown, Error> }>> },
      );
      assert.equal(error.attempts.length, 3);
      for (const attempt of error.attempts) {
        const stats = await attempt;
        assert.equal(stats.votesAgainst.size, 1);
        for (const reason of stats.votesAgainst.values()) assert.ok(reason instanceof impl.ResourceLockedError);
      }
      await lock.release();
    },
  },
  {
    name: 'acquire after release succeeds',
    async run(impl, resource, clients) {
      const [a, b] = [track(clients, impl.client()), track(clients, impl.client())];
      const first = await a.acquire([resource('r')], impl.durationMs);
      await first.release();
      const second = await b.acquire([resource('r')], impl.durationMs, noRetry);
      assert.notEqual(second.value, first.value);
      await second.release();
    },
  },
  {
    name: 'extend keeps the lock held past its first expiration',
    async run(impl, resource, clients) {
      const [a, b] = [track(clients, impl.client()), track(clients, impl.client())];
      const lock = await a.acquire([resource('r')], impl.durationMs);
      const firstExpiration = lock.expiration;
      await elapse(impl.durationMs / 2);
      const extended = await lock.extend(impl.durationMs);
      assert.equal(lock.expiration, 0, 'the extended lock replaces the old object');
      assert.ok(extended.expiration > firstExpiration);
      assert.equal(extended.value, lock.value);
      await elapse(firstExpiration - Date.now() + 200);
      await assert.rejects(b.acquire([resource('r')], impl.durationMs, noRetry), impl.ExecutionError);
      await extended.release();
    },
  },
  {
    name: 'extending a released lock fails with ExecutionError',
    async run(impl, resource, clients) {
      const a = track(clients, impl.client());
      const lock = await a.acquire([resource('r')], impl.durationMs);
      await lock.release();
      await assert.rejects(lock.extend(impl.durationMs), (error: unknown) => {
        assert.ok(error instanceof impl.ExecutionError);
        assert.equal((error as Error).message, 'Cannot extend an already-expired lock.');
        return true;
      });
    },
  },
  {
    name: 'using runs the routine under the lock and releases it afterwards',
    async run(impl, resource, clients) {
      const [a, b] = [track(clients, impl.client()), track(clients, impl.client())];
      const result = await a.using([resource('r')], impl.durationMs, { automaticExtensionThreshold: 200 }, async (signal) => {
        assert.equal(signal.aborted, false);
        await assert.rejects(b.acquire([resource('r')], impl.durationMs, noRetry), impl.ExecutionError);
        return 'done';
      });
      assert.equal(result, 'done');
      const after = await b.acquire([resource('r')], impl.durationMs, noRetry);
      await after.release();
    },
  },
  {
    name: 'using extends the lock automatically while a long routine runs',
    async run(impl, resource, clients) {
      const [a, b] = [track(clients, impl.client()), track(clients, impl.client())];
      await a.using([resource('r')], impl.durationMs, { automaticExtensionThreshold: impl.durationMs / 2 }, async (signal) => {
        await elapse(impl.durationMs * 1.5);
        assert.equal(signal.aborted, false);
        await assert.rejects(b.acquire([resource('r')], impl.durationMs, noRetry), impl.ExecutionError);
      });
    },
  },
  {
    name: 'a multi-resource lock holds every resource; a disjoint set stays free',
    async run(impl, resource, clients) {
      const [a, b] = [track(clients, impl.client()), track(clients, impl.client())];
      const lock = await a.acquire([resource('y'), resource('x')], impl.durationMs);
      assert.deepEqual(lock.resources, [resource('y'), resource('x')]);
      await assert.rejects(b.acquire([resource('x'), resource('z')], impl.durationMs, noRetry), impl.ExecutionError);
      await assert.rejects(b.acquire([resource('y')], impl.durationMs, noRetry), impl.ExecutionError);
      const other = await b.acquire([resource('z')], impl.durationMs, noRetry);
      await other.release();
      await lock.release();
      const both = await b.acquire([resource('x'), resource('y')], impl.durationMs, noRetry);
      await both.release();
    },
  },
  {
    name: 'an unextended lock expires after its duration and another client acquires it',
    async run(impl, resource, clients) {
      const [a, b] = [track(clients, impl.client()), track(clients, impl.client())];
      const lock = await a.acquire([resource('r')], impl.durationMs);
      const retryDelay = 100;
      const second = await b.acquire([resource('r')], impl.durationMs, {
        retryCount: Math.ceil((impl.durationMs * 3) / retryDelay),
        retryDelay,
        retryJitter: 0,
      });
      assert.ok(Date.now() >= lock.expiration, 'acquired only after the first lock expired');
      assert.ok(second.attempts.length > 1);
      await second.release();
    },
  },
  {
    name: 'error classes are Errors with redlock names',
    async run(impl) {
      const executionError = new (impl.ExecutionError as unknown as new (m: string, a: unknown[]) => Error)('m', []);
      const lockedError = new (impl.ResourceLockedError as unknown as new (m: string) => Error)('m');
      assert.ok(executionError instanceof Error);
      assert.ok(lockedError instanceof Error);
      assert.equal(executionError.name, 'ExecutionError');
      assert.equal(lockedError.name, 'ResourceLockedError');
      assert.equal(lockedError.message, 'm');
    },
  },
];

function track(clients: RedlockLike[], client: RedlockLike): RedlockLike {
  clients.push(client);
  return client;
}

function runContract(label: string, getImplementation: () => Implementation): void {
  describe(label, () => {
    scenarios.forEach((scenario, index) => {
      test(scenario.name, async () => {
        const impl = getImplementation();
        const clients: RedlockLike[] = [];
        try {
          await scenario.run(impl, (name) => `contract-${index}-${name}`, clients);
        } finally {
          await Promise.all(clients.map((client) => client.quit()));
        }
      });
    });
  });
}

runContract('redlock contract: real redlock over ioredis-mock', redisImplementation);

let latchkey: Implementation | undefined;
describe('redlock contract: latchkey', () => {
  before(async () => {
    const server = await startLatchkey();
    latchkey = latchkeyImplementation(server.endpoint);
  });
  after(stopAll);
  runContract('latchkey Redlock over a latchkey process', () => {
    assert.ok(latchkey !== undefined);
    return latchkey;
  });
});
