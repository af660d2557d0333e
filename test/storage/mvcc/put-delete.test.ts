import { afterEach, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { EtcdError } from '../../../src/errors';
import { EventType } from '../../../src/storage/mvcc/types';
import { b, del, deleteReq, keysOf, openTestStore, put, putReq, rangeReq, text, type OpenedStore } from './helpers';

function assertEtcdError(fn: () => unknown, message: string): void {
  assert.throws(fn, (error: unknown) => error instanceof EtcdError && error.message === message);
}

const LEASE = 7587869125497374721n;
const leaseExists = (id: bigint): boolean => id === LEASE || id === LEASE + 1n;

describe('put (facts §3, §6)', () => {
  let opened: OpenedStore;
  beforeEach(() => {
    opened = openTestStore();
  });
  afterEach(() => opened.cleanup());

  test('a fresh store is at revision 1 and each put takes the next revision', () => {
    assert.equal(opened.store.currentRevision(), 1n);
    assert.equal(put(opened.store, 'a', '1').outcome.revision, 2n);
    assert.equal(put(opened.store, 'b', '1').outcome.revision, 3n);
    assert.equal(opened.store.currentRevision(), 3n);
  });

  test('version, create and mod revisions evolve across updates, delete and re-create', () => {
    put(opened.store, 'k', 'v1'); // 2
    put(opened.store, 'k', 'v2'); // 3
    let [kv] = opened.store.range(rangeReq('k')).kvs;
    assert.deepEqual([kv.createRevision, kv.modRevision, kv.version, text(kv.value)], [2n, 3n, 2n, 'v2']);
    del(opened.store, 'k'); // 4
    put(opened.store, 'k', 'v3'); // 5
    [kv] = opened.store.range(rangeReq('k')).kvs;
    assert.deepEqual([kv.createRevision, kv.modRevision, kv.version], [5n, 5n, 1n]);
  });

  test('re-putting the same value still bumps revision and version', () => {
    put(opened.store, 'k', 'same');
    const { outcome } = put(opened.store, 'k', 'same');
    assert.equal(outcome.revision, 3n);
    assert.equal(opened.store.range(rangeReq('k')).kvs[0].version, 2n);
  });

  test('prev_kv returns the full previous KeyValue, and nothing for a new key', () => {
    assert.deepEqual(put(opened.store, 'k', 'v1', { prevKv: true }).result, {});
    const { result } = put(opened.store, 'k', 'v2', { prevKv: true });
    assert.ok(result.prevKv);
    assert.deepEqual(
      [text(result.prevKv.key), text(result.prevKv.value), result.prevKv.version, result.prevKv.modRevision],
      ['k', 'v1', 1n, 2n],
    );
    assert.equal(put(opened.store, 'k', 'v3').result.prevKv, undefined);
  });

  test('the outcome event carries the new kv and the previous one', () => {
    put(opened.store, 'k', 'v1', { lease: LEASE }, leaseExists);
    const { outcome } = put(opened.store, 'k', 'v2');
    assert.equal(outcome.events.length, 1);
    const [event] = outcome.events;
    assert.equal(event.type, EventType.PUT);
    assert.equal(text(event.kv.value), 'v2');
    assert.equal(event.kv.lease, 0n);
    assert.equal(event.prevKv?.lease, LEASE);
    assert.equal(put(opened.store, 'new', 'x').outcome.events[0].prevKv, undefined);
  });

  test('a put with an unknown lease is refused and changes nothing', () => {
    assertEtcdError(() => put(opened.store, 'k', 'v', { lease: 42n }, leaseExists), 'etcdserver: requested lease not found');
    assert.equal(opened.store.currentRevision(), 1n);
    assert.deepEqual(keysOf(opened.store, rangeReq('k')), []);
  });

  test('a plain put detaches the key from its lease; a put with another lease moves it', () => {
    put(opened.store, 'k', 'v', { lease: LEASE }, leaseExists);
    assert.equal(opened.store.range(rangeReq('k')).kvs[0].lease, LEASE);
    put(opened.store, 'k', 'v2');
    assert.equal(opened.store.range(rangeReq('k')).kvs[0].lease, 0n);
    put(opened.store, 'k', 'v3', { lease: LEASE + 1n }, leaseExists);
    assert.equal(opened.store.range(rangeReq('k')).kvs[0].lease, LEASE + 1n);
  });

  test('ignore_value keeps the value, ignore_lease keeps the lease', () => {
    put(opened.store, 'k', 'original', { lease: LEASE }, leaseExists);
    put(opened.store, 'k', '', { ignoreValue: true, lease: LEASE + 1n }, leaseExists);
    let [kv] = opened.store.range(rangeReq('k')).kvs;
    assert.deepEqual([text(kv.value), kv.lease, kv.version], ['original', LEASE + 1n, 2n]);
    put(opened.store, 'k', 'changed', { ignoreLease: true });
    [kv] = opened.store.range(rangeReq('k')).kvs;
    assert.deepEqual([text(kv.value), kv.lease, kv.version], ['changed', LEASE + 1n, 3n]);
  });

  test('ignore_* errors: missing key, value provided, lease provided, empty key', () => {
    assertEtcdError(() => put(opened.store, 'missing', '', { ignoreValue: true }), 'etcdserver: key not found');
    assertEtcdError(() => put(opened.store, 'missing', '', { ignoreLease: true }), 'etcdserver: key not found');
    put(opened.store, 'k', 'v');
    assertEtcdError(() => put(opened.store, 'k', 'x', { ignoreValue: true }), 'etcdserver: value is provided');
    assertEtcdError(() => put(opened.store, 'k', 'x', { ignoreLease: true, lease: LEASE }, leaseExists), 'etcdserver: lease is provided');
    assertEtcdError(() => put(opened.store, '', 'x'), 'etcdserver: key is not provided');
    assert.equal(opened.store.currentRevision(), 2n);
  });

  test('a failed request in a batch does not undo the other requests of the batch', () => {
    const revisions = opened.store.write((w) => {
      const first = w.put(putReq('a', '1'), leaseExists).outcome.revision;
      assert.throws(() => w.put(putReq('b', '1', { lease: 99n }), leaseExists), EtcdError);
      const second = w.put(putReq('c', '1'), leaseExists).outcome.revision;
      return [first, second];
    });
    assert.deepEqual(revisions, [2n, 3n]);
    assert.deepEqual(keysOf(opened.store, rangeReq('a', '\0')), ['a', 'c']);
  });

  test('a batch that throws out of write() keeps nothing', () => {
    assert.throws(() =>
      opened.store.write((w) => {
        w.put(putReq('a', '1'), leaseExists);
        throw new Error('apply failed');
      }),
    );
    assert.equal(opened.store.currentRevision(), 1n);
    assert.deepEqual(keysOf(opened.store, rangeReq('a')), []);
  });
});

describe('delete range (facts §6)', () => {
  let opened: OpenedStore;
  beforeEach(() => {
    opened = openTestStore();
    for (const key of ['a', 'b', 'c', 'd']) put(opened.store, key, `v-${key}`); // 2..5
  });
  afterEach(() => opened.cleanup());

  test('deletes a range in one revision, prev_kvs in key order', () => {
    const { result, outcome } = del(opened.store, 'b', '\0', true);
    assert.equal(result.deleted, 3n);
    assert.deepEqual(result.prevKvs.map((kv) => [text(kv.key), text(kv.value)]), [
      ['b', 'v-b'],
      ['c', 'v-c'],
      ['d', 'v-d'],
    ]);
    assert.equal(outcome.revision, 6n);
    assert.deepEqual(keysOf(opened.store, rangeReq('a', '\0')), ['a']);
  });

  test('without prev_kv only the count comes back', () => {
    const { result } = del(opened.store, 'a', 'c');
    assert.deepEqual(result, { deleted: 2n, prevKvs: [] });
  });

  test('delete events hold only key and mod_revision, with prevKv', () => {
    const { outcome } = del(opened.store, 'c');
    assert.equal(outcome.events.length, 1);
    const [event] = outcome.events;
    assert.equal(event.type, EventType.DELETE);
    assert.deepEqual(event.kv, { key: b('c'), createRevision: 0n, modRevision: 6n, version: 0n, value: Buffer.alloc(0), lease: 0n });
    assert.equal(text(event.prevKv?.value ?? b('')), 'v-c');
  });

  test('deleting nothing keeps the revision', () => {
    const { result, outcome } = del(opened.store, 'x', 'z');
    assert.equal(result.deleted, 0n);
    assert.equal(outcome.revision, 5n);
    assert.deepEqual(outcome.events, []);
    assert.equal(opened.store.currentRevision(), 5n);
  });

  test('an empty key is refused', () => {
    assertEtcdError(() => opened.store.write((w) => w.deleteRange(deleteReq(''))), 'etcdserver: key is not provided');
  });

  test('deleteKeys (lease revoke) deletes in key order in one revision, ignoring missing keys', () => {
    const outcome = opened.store.write((w) => w.deleteKeys([b('d'), b('missing'), b('a'), b('d')]));
    assert.equal(outcome.revision, 6n);
    assert.deepEqual(outcome.events.map((e) => [e.type, text(e.kv.key)]), [
      [EventType.DELETE, 'a'],
      [EventType.DELETE, 'd'],
    ]);
    assert.equal(opened.store.write((w) => w.deleteKeys([b('missing')])).revision, 6n);
  });
});
