import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Lessor } from '../../src/lease/lessor';
import { EventType, type KeyValue } from '../../src/storage/mvcc/types';

const kv = (key: string, lease: bigint): KeyValue => ({
  key: Buffer.from(key), createRevision: 1n, modRevision: 1n, version: 1n, value: Buffer.alloc(0), lease,
});

describe('lessor', () => {
  test('a TTL below the minimum is raised to it', () => {
    const lessor = new Lessor(2n);
    assert.equal(lessor.grant(1n, 1n, 0).ttlSeconds, 2n);
    assert.equal(lessor.grant(2n, 0n, 0).ttlSeconds, 2n);
    assert.equal(lessor.grant(3n, 30n, 0).ttlSeconds, 30n);
  });

  test('only the leader expires leases, and a new leader extends them by the election timeout', () => {
    const lessor = new Lessor(2n);
    lessor.grant(7n, 10n, 0);
    assert.deepEqual(lessor.expired(1_000_000, 10), [], 'a follower never expires');
    lessor.promote(0, 1_000);
    assert.deepEqual(lessor.expired(10_999, 10), []);
    assert.deepEqual(lessor.expired(11_000, 10), [7n]);
  });

  test('a checkpointed remaining TTL is what the next leader starts from (no revival)', () => {
    const lessor = new Lessor(2n);
    lessor.grant(7n, 60n, 0);
    lessor.checkpoint(7n, 5n);
    lessor.promote(100_000, 1_000);
    assert.deepEqual(lessor.expired(100_000 + 5_999, 10), []);
    assert.deepEqual(lessor.expired(100_000 + 6_000, 10), [7n]);
  });

  test('the next deadline ahead is what the leader sets its next expiry check for', () => {
    const lessor = new Lessor(2n);
    lessor.grant(7n, 10n, 0);
    lessor.grant(8n, 4n, 0);
    assert.equal(lessor.nextExpiryAfter(0), Infinity, 'a follower has no deadlines');
    lessor.promote(0, 1_000);
    assert.equal(lessor.nextExpiryAfter(0), 5_000);
    assert.equal(lessor.nextExpiryAfter(5_000), 11_000, 'a deadline already passed (being revoked) is not ahead');
    lessor.renew(8n, 3_000);
    assert.equal(lessor.nextExpiryAfter(3_000), 7_000, 'a renewal moves the deadline later');
    lessor.revoke(8n);
    lessor.revoke(7n);
    assert.equal(lessor.nextExpiryAfter(3_000), Infinity);
  });

  test('renewing resets the deadline and reports a checkpoint that must be cleared', () => {
    const lessor = new Lessor(2n);
    lessor.grant(7n, 10n, 0);
    lessor.promote(0, 0);
    lessor.checkpoint(7n, 3n);
    assert.deepEqual(lessor.renew(7n, 9_000), { ttlSeconds: 10n, hadCheckpoint: true });
    assert.deepEqual(lessor.expired(18_999, 10), []);
    assert.deepEqual(lessor.renew(99n, 9_000), { ttlSeconds: 0n, hadCheckpoint: false }, 'unknown lease: TTL 0');
  });

  test('keys follow puts and deletes between leases', () => {
    const lessor = new Lessor(2n);
    lessor.grant(1n, 10n, 0);
    lessor.grant(2n, 10n, 0);
    lessor.observe([{ type: EventType.PUT, kv: kv('a', 1n) }]);
    lessor.observe([{ type: EventType.PUT, kv: kv('b', 1n) }]);
    assert.deepEqual(lessor.keysOf(1n).map(String), ['a', 'b']);
    lessor.observe([{ type: EventType.PUT, kv: kv('a', 2n), prevKv: kv('a', 1n) }]);
    assert.deepEqual(lessor.keysOf(1n).map(String), ['b']);
    assert.deepEqual(lessor.keysOf(2n).map(String), ['a']);
    lessor.observe([{ type: EventType.DELETE, kv: kv('a', 0n), prevKv: kv('a', 2n) }]);
    assert.deepEqual(lessor.keysOf(2n), []);
  });
});
