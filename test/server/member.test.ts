import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { EtcdError } from '../../src/errors';
import type { WatchResponse } from '../../src/storage/mvcc/watch/types';
import { ctx, putOf, rangeOf, startInProcess } from './member-harness';

describe('a one-member cluster', () => {
  test('a put is answered after apply, with the new revision, and read back linearizably', async () => {
    const m = await startInProcess();
    try {
      const put = await m.port.kv.put(putOf('a', '1'), ctx);
      assert.equal(put.header.revision, 2n);
      assert.equal(put.header.memberId, m.member.id);
      const got = await m.port.kv.range(rangeOf('a'), ctx);
      assert.equal(got.result.kvs.length, 1);
      assert.equal(got.result.kvs[0]!.value.toString(), '1');
      assert.equal(got.result.kvs[0]!.createRevision, 2n);
      assert.ok(got.header.raftTerm >= 1n);
    } finally {
      await m.stop();
      fs.rmSync(m.dataDir, { recursive: true, force: true });
    }
  });

  test('concurrent puts each get their own revision and all are applied', async () => {
    const m = await startInProcess();
    try {
      const answers = await Promise.all(Array.from({ length: 200 }, (_, i) => m.port.kv.put(putOf(`k${i}`, `${i}`), ctx)));
      const revisions = answers.map((a) => a.header.revision).sort((a, b) => (a < b ? -1 : 1));
      assert.deepEqual(revisions, Array.from({ length: 200 }, (_, i) => BigInt(i + 2)));
      const all = await m.port.kv.range(rangeOf('k', 'l', { countOnly: true }), ctx);
      assert.equal(all.result.count, 200n);
    } finally {
      await m.stop();
      fs.rmSync(m.dataDir, { recursive: true, force: true });
    }
  });

  test('state survives a restart on the same data dir', async () => {
    const first = await startInProcess();
    await first.port.kv.put(putOf('durable', 'yes'), ctx);
    const grant = await first.port.lease.grant(60n, 0n, ctx);
    await first.port.kv.put(putOf('leased', 'x', grant.result.id), ctx);
    await first.stop();
    const second = await startInProcess({}, first.dataDir);
    try {
      const got = await second.port.kv.range(rangeOf('durable'), ctx);
      assert.equal(got.result.kvs[0]!.value.toString(), 'yes');
      const ttl = await second.port.lease.timeToLive(grant.result.id, true, ctx);
      assert.equal(ttl.result.grantedTtlSeconds, 60n);
      assert.deepEqual(ttl.result.keys.map(String), ['leased']);
      await second.port.kv.put(putOf('durable', 'again'), ctx);
      const again = await second.port.kv.range(rangeOf('durable'), ctx);
      assert.equal(again.result.kvs[0]!.version, 2n);
    } finally {
      await second.stop();
      fs.rmSync(first.dataDir, { recursive: true, force: true });
    }
  });

  test('revoking a lease deletes its keys in one revision; a missing lease is NOT_FOUND', async () => {
    const m = await startInProcess();
    try {
      const grant = await m.port.lease.grant(30n, 0n, ctx);
      await m.port.kv.put(putOf('l/1', 'a', grant.result.id), ctx);
      const last = await m.port.kv.put(putOf('l/2', 'b', grant.result.id), ctx);
      const revoke = await m.port.lease.revoke(grant.result.id, ctx);
      assert.equal(revoke.header.revision, last.header.revision + 1n);
      const left = await m.port.kv.range(rangeOf('l/', 'l0'), ctx);
      assert.equal(left.result.kvs.length, 0);
      await assert.rejects(m.port.lease.revoke(grant.result.id, ctx), (err: unknown) => {
        assert.ok(err instanceof EtcdError);
        assert.equal(err.message, 'etcdserver: requested lease not found');
        return true;
      });
      await assert.rejects(m.port.kv.put(putOf('x', 'y', 12345n), ctx), /requested lease not found/);
    } finally {
      await m.stop();
      fs.rmSync(m.dataDir, { recursive: true, force: true });
    }
  });

  test('an expired lease is revoked by the leader and its keys vanish with a DELETE event', { timeout: 15_000 }, async () => {
    // election timeout 100 ms → minimum TTL ceil(0.15) = 1 s
    const m = await startInProcess({ electionTimeoutMs: 100, heartbeatIntervalMs: 10 });
    try {
      const grant = await m.port.lease.grant(1n, 0n, ctx);
      assert.equal(grant.result.ttlSeconds, 1n);
      await m.port.kv.put(putOf('ephemeral', 'x', grant.result.id), ctx);
      const deleted = new Promise<WatchResponse>((resolve) => {
        const stream = m.port.watch.openStream((response) => {
          if (response.events.length > 0) {
            stream.close();
            resolve(response);
          }
        });
        stream.create({ key: Buffer.from('ephemeral'), rangeEnd: Buffer.alloc(0), startRevision: 0n, progressNotify: false, filters: [], prevKv: false, watchId: 0n, fragment: false });
      });
      const event = await deleted;
      assert.equal(event.events[0]!.type, 1);
      const ttl = await m.port.lease.timeToLive(grant.result.id, false, ctx);
      assert.equal(ttl.result.ttlSeconds, -1n);
      const keepAlive = await m.port.lease.keepAlive(grant.result.id, ctx);
      assert.equal(keepAlive.result.ttlSeconds, 0n);
    } finally {
      await m.stop();
      fs.rmSync(m.dataDir, { recursive: true, force: true });
    }
  });
});
