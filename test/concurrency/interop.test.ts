import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { EtcdClient, RpcError, prefixEnd, type Wire } from '../support/etcd-client';
import { EtcdctlSession } from '../support/etcdctl';
import { startServerOfKind, stopAll, type ServerKind, type ServerProcess } from '../support/processes';
import { skipUnlessBinaries } from '../support/skip';
import { ConcurrencyClient } from './concurrency-client';
import { awaitEvent, deleteOf, hexOf, putOf, stillPending } from './wire-helpers';

/**
 * The same scenarios against real etcd 3.4 (the reference) and a latchkey process: the
 * v3lock/v3election services, their error texts, and interoperation with `etcdctl lock` and
 * `etcdctl elect` on the same names.
 */

function rejectsWith(code: number | number[], details: string | RegExp) {
  return (err: unknown): boolean => {
    assert.ok(err instanceof RpcError, String(err));
    assert.ok((Array.isArray(code) ? code : [code]).includes(err.code), `code ${err.code}: ${err.details}`);
    if (typeof details === 'string') assert.equal(err.details, details);
    else assert.match(err.details, details);
    return true;
  };
}

for (const kind of ['etcd', 'latchkey'] as ServerKind[]) {
  describe(`v3lock and v3election against ${kind}`, { skip: skipUnlessBinaries('etcd', 'etcdctl') }, () => {
    let server: ServerProcess;
    let client: ConcurrencyClient;
    let kv: EtcdClient;
    before(async () => {
      server = await startServerOfKind(kind);
      client = new ConcurrencyClient(server.endpoint);
      kv = new EtcdClient(server.endpoint);
    });
    after(async () => {
      client?.close();
      kv?.close();
      await stopAll();
    });
    const grant = async (ttl = 30): Promise<string> => (await kv.leaseGrant({ TTL: ttl })).ID as string;

    test('Lock returns <name>/<lease hex>, at the key\'s create revision; the same lease is re-entrant; Unlock of a missing key is OK', async () => {
      const lease = await grant();
      const held = await client.lock('L1', lease);
      assert.equal(Buffer.from(held.key).toString(), `L1/${hexOf(lease)}`);
      const got = await kv.range({ key: held.key });
      assert.equal(got.kvs[0].create_revision, held.header.revision);
      assert.equal(got.kvs[0].lease, lease);
      const again = await client.lock('L1', lease);
      assert.deepEqual(Buffer.from(again.key), Buffer.from(held.key));
      const unlocked = await client.unlock(held.key);
      assert.ok(BigInt(unlocked.header.revision) > BigInt(held.header.revision));
      const missing = await client.unlock(held.key);
      assert.equal(missing.header.revision, unlocked.header.revision);
    });

    test('Lock with lease 0 runs under a 60 s lease granted by the server', async () => {
      const held = await client.lock('L2', 0);
      const key = Buffer.from(held.key).toString();
      assert.match(key, /^L2\/[0-9a-f]+$/);
      const lease = BigInt(`0x${key.slice('L2/'.length)}`);
      const ttl = await kv.leaseTimeToLive({ ID: lease.toString() });
      assert.equal(ttl.grantedTTL, '60');
      await client.unlock(held.key);
      await kv.leaseRevoke({ ID: lease.toString() });
    });

    test('error codes and texts: missing lease, no leader, not leader, missing leader field', async () => {
      await assert.rejects(client.lock('L3', '9223372036854'), rejectsWith(2, 'etcdserver: requested lease not found'));
      await assert.rejects(client.campaign('E3', '9223372036854', 'v'), rejectsWith(2, 'etcdserver: requested lease not found'));
      await assert.rejects(client.leader('E3'), rejectsWith(2, 'election: no leader'));
      await assert.rejects(client.proclaim(undefined, 'v'), rejectsWith(2, '"leader" field must be provided'));
      await assert.rejects(client.resign(undefined), rejectsWith(2, '"leader" field must be provided'));
      const lease = await grant();
      const won = await client.campaign('E3', lease, 'v');
      const stale = { ...won.leader, rev: String(BigInt(won.leader.rev) + 100n) };
      await assert.rejects(client.proclaim(stale, 'w'), rejectsWith(2, 'election: not leader'));
      const resignedStale = await client.resign(stale);
      assert.ok(resignedStale.header.revision !== undefined);
      await client.resign(won.leader);
      await assert.rejects(client.leader('E3'), rejectsWith(2, 'election: no leader'));
    });

    test('a Lock whose deadline passes while it waits fails and its key is removed', async () => {
      const [a, b] = [await grant(), await grant()];
      const held = await client.lock('L4', a);
      const bKey = `L4/${hexOf(b)}`;
      const deleted = awaitEvent(kv, 'L4/', deleteOf(bKey));
      await assert.rejects(client.lock('L4', b, { deadlineMs: 1_000 }), rejectsWith([2, 4], /deadline|context/i));
      await deleted;
      const left = await kv.range({ key: Buffer.from('L4/'), range_end: prefixEnd('L4/') });
      assert.deepEqual(left.kvs.map((k: Wire) => Buffer.from(k.key).toString()), [Buffer.from(held.key).toString()]);
      await client.unlock(held.key);
    });

    test('Lock waits while `etcdctl lock` holds the name and gets it when etcdctl is interrupted; etcdctl then waits for Unlock', async () => {
      const holder = new EtcdctlSession(server.endpoint, ['lock', 'L5']);
      const [holderKey] = await holder.waitForLines(1);
      assert.match(holderKey!, /^L5\/[0-9a-f]+$/);
      const lease = await grant();
      const waiting = client.lock('L5', lease, { deadlineMs: 20_000 });
      await awaitEvent(kv, 'L5/', putOf(`L5/${hexOf(lease)}`));
      assert.equal(await stillPending(waiting, kv), true, 'Lock waits while etcdctl holds the lock');
      await holder.stop('SIGINT');
      const held = await waiting;
      assert.equal(Buffer.from(held.key).toString(), `L5/${hexOf(lease)}`);

      const next = new EtcdctlSession(server.endpoint, ['lock', 'L5']);
      const nextLease = await awaitEvent(kv, 'L5/', (e) => putOf(Buffer.from(e.kv.key).toString())(e) && e.kv.lease !== lease && Buffer.from(e.kv.key).toString() !== holderKey);
      assert.equal(next.stdoutLines().length, 0, 'etcdctl waits while the server-side lock is held');
      await client.unlock(held.key);
      const [nextKey] = await next.waitForLines(1);
      assert.equal(nextKey, Buffer.from(nextLease.kv.key).toString());
      await next.stop('SIGINT');
    });

    test('`etcdctl elect` and Campaign on the same name see the same leader; Observe streams the changes', async () => {
      const observer = client.observe('E6');
      try {
        const candidate = new EtcdctlSession(server.endpoint, ['elect', 'E6', 'p1']);
        const [candidateKey, candidateValue] = await candidate.waitForLines(2);
        assert.equal(candidateValue, 'p1');
        const first = await observer.next();
        assert.equal(Buffer.from(first.kv.key).toString(), candidateKey);
        assert.equal(Buffer.from(first.kv.value).toString(), 'p1');
        const leader = await client.leader('E6');
        assert.equal(Buffer.from(leader.kv.key).toString(), candidateKey);
        assert.equal(Buffer.from(leader.kv.value).toString(), 'p1');

        const lease = await grant();
        const campaign = client.campaign('E6', lease, 'srv', { deadlineMs: 20_000 });
        await awaitEvent(kv, 'E6/', putOf(`E6/${hexOf(lease)}`));
        assert.equal(await stillPending(campaign, kv), true, 'Campaign waits while etcdctl leads');
        await candidate.stop('SIGINT');
        const won = await campaign;
        assert.equal(Buffer.from(won.leader.key).toString(), `E6/${hexOf(lease)}`);
        assert.equal(won.leader.lease, lease);
        assert.equal(Buffer.from(won.leader.name).toString(), 'E6');
        const second = await observer.next();
        assert.equal(Buffer.from(second.kv.value).toString(), 'srv');

        const listener = new EtcdctlSession(server.endpoint, ['elect', '-l', 'E6']);
        assert.deepEqual(await listener.waitForLines(2), [`E6/${hexOf(lease)}`, 'srv']);
        await client.proclaim(won.leader, 'srv2');
        assert.equal(Buffer.from((await observer.next()).kv.value).toString(), 'srv2');
        assert.deepEqual((await listener.waitForLines(4)).slice(2), [`E6/${hexOf(lease)}`, 'srv2']);
        assert.equal(Buffer.from((await client.leader('E6')).kv.value).toString(), 'srv2');
        await client.resign(won.leader);
        // Nothing is reported for a resignation until a new leader appears.
        await kv.range({ key: Buffer.from('round-trip') });
        assert.deepEqual(observer.pending(), []);
        await listener.stop('SIGINT');
      } finally {
        observer.close();
      }
    });
  });
}
