import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Client, Election, Mutex, Session, type KeyValue } from '../../clients/typescript/src';
import { EtcdClient } from '../support/etcd-client';
import { startCluster, stopAll, type ServerProcess } from '../support/processes';
import { FencedResource } from './fencing-resource';
import { initialClusterOf, restartMember } from '../cluster/harness';
import { LockWorker } from './worker';

const ELECTION_TIMEOUT_MS = 1000;
const TIMING = ['--heartbeat-interval', '100', '--election-timeout', String(ELECTION_TIMEOUT_MS)];
/** The lessor checks expiry every 500 ms; the waiter's watch and Range add a little more. */
const EXPIRY_SLACK_MS = 1500;
/** How long past two election timeouts an unlock may keep failing after the leader was killed. */
const UNLOCK_SLACK_MS = 8000;

function clientFor(endpoints: string[]): Client {
  return new Client({ endpoints, callTimeoutMs: 5_000, retryBaseDelayMs: 50, retryMaxDelayMs: 500 });
}

async function leaderOf(members: ServerProcess[]): Promise<ServerProcess> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    for (const m of members) {
      if (m.exited) continue;
      const c = new EtcdClient(m.endpoint);
      try {
        const s = await c.status({ deadlineMs: 1000 });
        if (BigInt(s.leader) !== 0n && BigInt(s.leader) === BigInt(s.header.member_id)) return m;
      } catch {
        // not answering yet
      } finally {
        c.close();
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error('no leader within 10 s');
}

describe('locks, leases and elections across failures (3-member latchkey cluster)', () => {
  let members: ServerProcess[] = [];
  const endpoints = (): string[] => members.filter((m) => !m.exited).map((m) => m.endpoint);
  before(async () => {
    members = await startCluster('latchkey', { size: 3, namePrefix: 'lockfo', extraArgs: TIMING });
  });
  after(async () => {
    await Promise.all(members.map((m) => m.stop('SIGKILL')));
    await stopAll();
  });

  test('the holder process is killed: the next waiter gets the lock within the TTL plus one election timeout', { timeout: 60_000 }, async () => {
    const ttlSeconds = 3;
    const holder = LockWorker.start('lock', endpoints(), 'handover', ttlSeconds);
    const first = await holder.next('acquired', 15_000);
    const client = clientFor(endpoints());
    try {
      const session = await Session.create(client, { ttlSeconds: 10 });
      const waiter = new Mutex(session, 'handover');
      const acquired = waiter.lock({ timeoutMs: 30_000 });
      await new Promise((resolve) => setTimeout(resolve, 300)); // the waiter is queued behind the holder
      const killedAtMs = Date.now();
      await holder.kill9();
      await acquired;
      const handoverMs = Date.now() - killedAtMs;
      process.stdout.write(`# lock handover after kill -9 of the holder: ${handoverMs} ms (TTL ${ttlSeconds} s)\n`);
      assert.ok(handoverMs <= ttlSeconds * 1000 + ELECTION_TIMEOUT_MS + EXPIRY_SLACK_MS, `handover took ${handoverMs} ms`);
      assert.ok(waiter.fencingToken > BigInt(first.token!), 'the new holder has a higher fencing token');
      await waiter.unlock();
      await session.close();
    } finally {
      client.close();
    }
  });

  test('a lease survives a leader change with its remaining TTL, then expires', { timeout: 60_000 }, async () => {
    const client = clientFor(endpoints());
    const leader = await leaderOf(members);
    const leaderIndex = members.indexOf(leader);
    let survivors: Client | undefined;
    try {
      const grant = await client.leases.grant(8);
      await client.kv.put('survivor', 'x', { lease: grant.id });
      await leader.kill9();
      // Ask the members that are left (a client pinned to the dead one would only time out).
      survivors = clientFor(endpoints());
      const ttl = await survivors.leases.timeToLive(grant.id);
      // Not killed early: the lease is still there with time left. The new leader restarts
      // every lease at its TTL plus an election timeout (etcd's Promote), so an answer right
      // after the election may be 9 here, as etcd's would.
      const mostSeconds = 8n + BigInt(Math.ceil(ELECTION_TIMEOUT_MS / 1000));
      assert.ok(ttl.ttlSeconds > 0n && ttl.ttlSeconds <= mostSeconds, `remaining TTL after failover ${ttl.ttlSeconds}`);
      assert.equal((await survivors.kv.get('survivor'))?.value.toString(), 'x');
      // Not revived either: it still expires, within its TTL plus the new leader's extension.
      const deadline = Date.now() + 8_000 + 2 * ELECTION_TIMEOUT_MS + 5_000 + EXPIRY_SLACK_MS;
      while ((await survivors.kv.get('survivor')) !== undefined) {
        assert.ok(Date.now() < deadline, 'the lease never expired after the leader change');
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    } finally {
      client.close();
      survivors?.close();
      if (leader.exited) members[leaderIndex] = await restartMember('latchkey', leader, initialClusterOf(members), TIMING);
    }
  });

  test('the leader member is killed while locks are held and waited on: none granted twice, none lost', { timeout: 90_000 }, async () => {
    const resource = new FencedResource();
    const workers = 6;
    const rounds = 4;
    const clients = Array.from({ length: workers }, () => clientFor(endpoints()));
    let grants = 0;
    let killed = false;
    try {
      await Promise.all(
        clients.map(async (client, holder) => {
          const session = await Session.create(client, { ttlSeconds: 10 });
          const mutex = new Mutex(session, 'failover-lock');
          for (let round = 0; round < rounds; round++) {
            await mutex.lock({ timeoutMs: 45_000 });
            grants += 1;
            const token = mutex.fencingToken;
            resource.enter(holder, token);
            assert.equal(resource.write(holder, token), true);
            if (!killed && grants === 3) {
              killed = true;
              const leader = await leaderOf(members);
              await leader.kill9(); // while this client holds the lock and others wait
            }
            await new Promise((resolve) => setTimeout(resolve, 20));
            resource.leave(holder);
            // An unlock sent while the cluster elects a new leader fails; retry it until a
            // leader must have been elected (the killed one's election, 1–2 election
            // timeouts, plus slack for a loaded machine).
            const unlockDeadline = Date.now() + 2 * ELECTION_TIMEOUT_MS + UNLOCK_SLACK_MS;
            for (let attempt = 0; ; attempt++) {
              try {
                await mutex.unlock();
                break;
              } catch (err) {
                if (attempt >= 100 || Date.now() > unlockDeadline) throw err;
                await new Promise((resolve) => setTimeout(resolve, 200));
              }
            }
          }
          await session.close().catch(() => undefined);
        }),
      );
    } finally {
      for (const c of clients) c.close();
      for (let i = 0; i < members.length; i++) {
        if (members[i]!.exited) members[i] = await restartMember('latchkey', members[i]!, initialClusterOf(members), TIMING);
      }
    }
    assert.equal(grants, workers * rounds, 'every waiter got the lock: none lost');
    assert.deepEqual(resource.overlaps, [], 'no lock granted twice');
    assert.deepEqual(resource.rejected, [], 'no token accepted after a higher one');
  });

  test('election failover: the leader worker is killed; every observer sees the new leader once, in order', { timeout: 90_000 }, async () => {
    const live = endpoints();
    const first = LockWorker.start('campaign', live, 'workers', 3, 'worker-1');
    await first.next('elected', 15_000);
    const second = LockWorker.start('campaign', live.slice().reverse(), 'workers', 3, 'worker-2');
    await second.next('session', 15_000);

    const observers = live.map((endpoint) => clientFor([endpoint]));
    const stop = new AbortController();
    const seen: string[][] = observers.map(() => []);
    const observing = observers.map(async (client, i) => {
      const session = await Session.create(client, { ttlSeconds: 10 });
      const election = new Election(session, 'workers');
      try {
        for await (const kv of election.observe(stop.signal) as AsyncIterable<KeyValue>) {
          seen[i]!.push(kv.value.toString());
          if (kv.value.toString() === 'worker-2') break;
        }
      } catch (err) {
        if (!stop.signal.aborted) throw err;
      }
    });
    try {
      const deadline = Date.now() + 10_000;
      while (seen.some((s) => s.length === 0) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
      await first.kill9();
      await second.next('elected', 3_000 + ELECTION_TIMEOUT_MS + 5_000);
      await Promise.race([Promise.all(observing), new Promise((resolve) => setTimeout(resolve, 15_000))]);
    } finally {
      stop.abort();
      for (const c of observers) c.close();
      await second.kill9();
    }
    for (const sequence of seen) assert.deepEqual(sequence, ['worker-1', 'worker-2'], `an observer saw ${JSON.stringify(seen)}`);
  });
});
