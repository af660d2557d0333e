import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { EtcdError } from '../../../src/errors';
import { silentLogger } from '../../../src/log';
import { crc32c } from '../../../src/storage/crc32c';
import { encodeKeyValue, MvccStore, temporaryStoreDirectory } from '../../../src/storage/mvcc';
import { revisionKey } from '../../../src/storage/mvcc/revision';
import { EventType } from '../../../src/storage/mvcc/types';
import { b, del, keysOf, op, openTestStore, put, putReq, rangeReq, text, txn, txnReq, type OpenedStore } from './helpers';

function assertEtcdError(fn: () => unknown, message: string): void {
  assert.throws(fn, (error: unknown) => error instanceof EtcdError && error.message === message);
}
const COMPACTED = 'etcdserver: mvcc: required revision has been compacted';
const FUTURE = 'etcdserver: mvcc: required revision is a future revision';

describe('compaction (facts §8)', () => {
  let opened: OpenedStore;
  beforeEach(() => {
    opened = openTestStore();
    put(opened.store, 'a', '1'); // 2
    put(opened.store, 'a', '2'); // 3
    put(opened.store, 'b', '1'); // 4
    del(opened.store, 'b'); // 5
    put(opened.store, 'a', '3'); // 6
    put(opened.store, 'c', '1'); // 7
  });
  afterEach(() => opened.cleanup());

  test('future and already-compacted revisions are refused', () => {
    assertEtcdError(() => opened.store.write((w) => w.compact(8n)), FUTURE);
    opened.store.write((w) => w.compact(5n));
    assert.equal(opened.store.compactedRevision(), 5n);
    assertEtcdError(() => opened.store.write((w) => w.compact(5n)), COMPACTED);
    assertEtcdError(() => opened.store.write((w) => w.compact(4n)), COMPACTED);
    assertEtcdError(() => opened.store.write((w) => w.compact(0n)), COMPACTED);
    assert.equal(opened.store.currentRevision(), 7n, 'compaction does not change the revision');
  });

  test('reads below the compacted revision fail; at it and above they work', () => {
    opened.store.write((w) => w.compact(5n));
    assertEtcdError(() => opened.store.range(rangeReq('a', '', { revision: 4n })), COMPACTED);
    const at5 = opened.store.range(rangeReq('a', '\0', { revision: 5n }));
    assert.deepEqual(at5.kvs.map((kv) => [text(kv.key), text(kv.value)]), [['a', '2']]);
    assert.deepEqual(keysOf(opened.store, rangeReq('a', '\0')), ['a', 'c']);
  });

  test('superseded versions and tombstones at or below the revision leave history', () => {
    opened.store.write((w) => w.compact(5n));
    const events = opened.store.eventsBetween(1n, 7n, b('a'), b('\0'));
    assert.deepEqual(events.map((e) => [e.type, text(e.kv.key), e.kv.modRevision]), [
      [EventType.PUT, 'a', 3n],
      [EventType.PUT, 'a', 6n],
      [EventType.PUT, 'c', 7n],
    ]);
    assert.equal(text(events[1].prevKv?.value ?? b('')), '2', 'the kept version is still a prevKv');
    assert.equal(events[0].prevKv, undefined, 'the removed version is not');
  });

  test('the latest version of every key survives compaction at the current revision', () => {
    opened.store.write((w) => w.compact(7n));
    const all = opened.store.range(rangeReq('\0', '\0'));
    assert.deepEqual(all.kvs.map((kv) => [text(kv.key), text(kv.value), kv.version]), [
      ['a', '3', 3n],
      ['c', '1', 1n],
    ]);
    put(opened.store, 'a', '4');
    assert.equal(opened.store.range(rangeReq('a')).kvs[0].version, 4n);
  });

  test('the compacted revision survives a reopen', async () => {
    opened.store.write((w) => w.compact(6n));
    const store = await opened.reopen();
    assert.equal(store.compactedRevision(), 6n);
    assertEtcdError(() => store.range(rangeReq('a', '', { revision: 5n })), COMPACTED);
  });
});

describe('durability and metadata', () => {
  let opened: OpenedStore;
  beforeEach(() => {
    opened = openTestStore();
  });
  afterEach(() => opened.cleanup());

  test('the consistent index is stored with the data of the same batch', async () => {
    assert.equal(opened.store.consistentIndex(), 0n);
    opened.store.write((w) => {
      w.put(putReq('a', '1'), () => false);
      w.setConsistentIndex(10n);
    });
    assert.throws(() =>
      opened.store.write((w) => {
        w.put(putReq('b', '1'), () => false);
        w.setConsistentIndex(11n);
        throw new Error('crash in the middle of apply');
      }),
    );
    assert.equal(opened.store.consistentIndex(), 10n);
    await opened.store.flushed();
    const store = await opened.reopen();
    assert.equal(store.consistentIndex(), 10n);
    assert.equal(store.currentRevision(), 2n);
    assert.deepEqual(keysOf(store, rangeReq('a', '\0')), ['a']);
  });

  test('leases and named meta blobs persist', async () => {
    opened.store.write((w) => {
      w.putLease({ id: 5n, ttlSeconds: 10n, remainingSeconds: 0n });
      w.putLease({ id: 7587869125497374721n, ttlSeconds: 60n, remainingSeconds: 42n });
      w.putLease({ id: 9n, ttlSeconds: 1n, remainingSeconds: 0n });
      w.deleteLease(9n);
      w.putMeta('members', b('m1,m2'));
    });
    const store = await opened.reopen();
    assert.deepEqual(store.listLeases(), [
      { id: 5n, ttlSeconds: 10n, remainingSeconds: 0n },
      { id: 7587869125497374721n, ttlSeconds: 60n, remainingSeconds: 42n },
    ]);
    assert.equal(text(store.getMeta('members') ?? b('')), 'm1,m2');
    assert.equal(store.getMeta('absent'), undefined);
  });

  test('copyTo writes a database that opens with the same content', async () => {
    put(opened.store, 'a', '1');
    put(opened.store, 'b', '2');
    opened.store.write((w) => w.setConsistentIndex(3n));
    const file = path.join(opened.directory, '..', `${path.basename(opened.directory)}.snap`);
    const target = temporaryStoreDirectory();
    try {
      await opened.store.copyTo(file);
      MvccStore.installCopy(file, target);
      const copy = MvccStore.open(target, { logger: silentLogger() });
      assert.equal(copy.consistentIndex(), 3n);
      assert.equal(copy.currentRevision(), 3n);
      assert.equal(copy.hash(), opened.store.hash());
      assert.deepEqual(copy.hashKV(0n), opened.store.hashKV(0n));
      await copy.close();
    } finally {
      fs.rmSync(file, { force: true });
      fs.rmSync(target, { recursive: true, force: true });
    }
  });

  test('sizes are reported', () => {
    put(opened.store, 'a', 'x'.repeat(10_000));
    assert.ok(opened.store.dbSizeBytes() > 0n);
    assert.ok(opened.store.dbSizeInUseBytes() > 0n);
  });
});

describe('eventsBetween (watch history)', () => {
  let opened: OpenedStore;
  beforeEach(() => {
    opened = openTestStore();
    put(opened.store, 'a', '1'); // 2
    put(opened.store, 'b', '1'); // 3
    txn(opened.store, txnReq([], [op.put(putReq('a', '2')), op.put(putReq('c', '1'))])); // 4
    del(opened.store, 'a', 'c'); // 5: deletes a, b
    put(opened.store, 'z', '1'); // 6
  });
  afterEach(() => opened.cleanup());

  test('events come in revision order, then in order within the revision, with prevKv', () => {
    const events = opened.store.eventsBetween(2n, 6n, b('a'), b('\0'));
    assert.deepEqual(events.map((e) => [e.type, text(e.kv.key), e.kv.modRevision, e.prevKv ? text(e.prevKv.value) : null]), [
      [EventType.PUT, 'a', 2n, null],
      [EventType.PUT, 'b', 3n, null],
      [EventType.PUT, 'a', 4n, '1'],
      [EventType.PUT, 'c', 4n, null],
      [EventType.DELETE, 'a', 5n, '2'],
      [EventType.DELETE, 'b', 5n, '1'],
      [EventType.PUT, 'z', 6n, null],
    ]);
    assert.deepEqual(events[4].kv, { key: b('a'), createRevision: 0n, modRevision: 5n, version: 0n, value: Buffer.alloc(0), lease: 0n });
    assert.deepEqual(events[2].kv.version, 2n);
  });

  test('bounds are inclusive and the key range filters', () => {
    assert.deepEqual(
      opened.store.eventsBetween(4n, 5n, b('a'), b('')).map((e) => [e.type, e.kv.modRevision]),
      [
        [EventType.PUT, 4n],
        [EventType.DELETE, 5n],
      ],
    );
    assert.deepEqual(opened.store.eventsBetween(3n, 4n, b('b'), b('d')).map((e) => text(e.kv.key)), ['b', 'c']);
    assert.deepEqual(opened.store.eventsBetween(7n, 9n, b('a'), b('\0')), []);
  });

  test('the outcome of a write matches what eventsBetween replays for it', () => {
    const { outcome } = put(opened.store, 'c', '2', {});
    assert.deepEqual(opened.store.eventsBetween(outcome.revision, outcome.revision, b('c'), b('')), outcome.events);
  });
});

describe('hashKV (etcd HashByRev)', () => {
  let opened: OpenedStore;
  beforeEach(() => {
    opened = openTestStore();
  });
  afterEach(() => opened.cleanup());

  test('follows etcd: crc32c of "key", then each revision key and KeyValue bytes', () => {
    put(opened.store, 'foo', 'bar');
    del(opened.store, 'foo');
    const kv = { key: b('foo'), createRevision: 2n, modRevision: 2n, version: 1n, value: b('bar'), lease: 0n };
    const tombstone = { key: b('foo'), createRevision: 0n, modRevision: 0n, version: 0n, value: Buffer.alloc(0), lease: 0n };
    let expected = crc32c(b('key'));
    expected = crc32c(revisionKey(2n, 0n, false), expected);
    expected = crc32c(encodeKeyValue(kv), expected);
    expected = crc32c(revisionKey(3n, 0n, true), expected);
    expected = crc32c(encodeKeyValue(tombstone), expected);
    assert.deepEqual(opened.store.hashKV(0n), { hash: expected, compactRevision: -1n, revision: 3n });
  });

  test('the hash at a revision ignores later writes, changes with data, and survives reopen', async () => {
    put(opened.store, 'a', '1');
    put(opened.store, 'b', '1');
    const atThree = opened.store.hashKV(3n).hash;
    put(opened.store, 'a', '2');
    assert.equal(opened.store.hashKV(3n).hash, atThree);
    assert.notEqual(opened.store.hashKV(0n).hash, atThree);
    const before = opened.store.hashKV(0n);
    const wholeBefore = opened.store.hash();
    const store = await opened.reopen();
    assert.deepEqual(store.hashKV(0n), before);
    assert.equal(store.hash(), wholeBefore);
  });

  test('future and compacted revisions are refused; compact_revision is reported', () => {
    put(opened.store, 'a', '1'); // 2
    put(opened.store, 'a', '2'); // 3
    assertEtcdError(() => opened.store.hashKV(4n), FUTURE);
    opened.store.write((w) => w.compact(2n));
    assertEtcdError(() => opened.store.hashKV(2n), COMPACTED);
    assert.equal(opened.store.hashKV(3n).compactRevision, 2n);
  });
});
