import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { EtcdError } from '../../../src/errors';
import { b, del, keysOf, openTestStore, put, rangeReq, SortOrder, SortTarget, text, type OpenedStore } from './helpers';

function assertEtcdError(fn: () => unknown, message: string): void {
  assert.throws(fn, (error: unknown) => error instanceof EtcdError && error.message === message);
}

describe('range: key ranges (facts §4)', () => {
  let opened: OpenedStore;
  before(() => {
    opened = openTestStore();
    for (const key of ['a', 'a/1', 'a/2', 'ab', 'b', 'c', 'foo', 'fop', 'z\xff']) put(opened.store, key, `v-${key}`);
  });
  after(() => opened.cleanup());

  test('empty range_end reads only the single key', () => {
    assert.deepEqual(keysOf(opened.store, rangeReq('a')), ['a']);
    assert.deepEqual(keysOf(opened.store, rangeReq('missing')), []);
  });

  test('a prefix range_end reads exactly the keys under that prefix', () => {
    assert.deepEqual(keysOf(opened.store, rangeReq('a/', 'a0')), ['a/1', 'a/2']);
    assert.deepEqual(keysOf(opened.store, rangeReq('foo', 'fop')), ['foo']);
  });

  test('range_end "\\0" reads every key from key on', () => {
    assert.deepEqual(keysOf(opened.store, rangeReq('c', '\0')), ['c', 'foo', 'fop', 'z\xff']);
  });

  test('key "\\0" with range_end "\\0" reads every key', () => {
    const result = opened.store.range(rangeReq('\0', '\0'));
    assert.equal(result.count, 9n);
    assert.deepEqual(result.kvs.map((kv) => text(kv.key)), ['a', 'a/1', 'a/2', 'ab', 'b', 'c', 'foo', 'fop', 'z\xff']);
  });

  test('key >= range_end returns nothing and no error', () => {
    const result = opened.store.range(rangeReq('c', 'b'));
    assert.deepEqual(result, { kvs: [], more: false, count: 0n });
    assert.deepEqual(keysOf(opened.store, rangeReq('c', 'c')), []);
  });

  test('an empty key is refused', () => {
    assertEtcdError(() => opened.store.range(rangeReq('')), 'etcdserver: key is not provided');
  });
});

describe('range: limit, more, count and filters (facts §5)', () => {
  let opened: OpenedStore;
  before(() => {
    opened = openTestStore();
    // k0..k4 at revisions 2..6; then k1 updated twice (7, 8), k3 once (9)
    for (let i = 0; i < 5; i++) put(opened.store, `k${i}`, `value-${4 - i}`);
    put(opened.store, 'k1', 'x');
    put(opened.store, 'k1', 'y');
    put(opened.store, 'k3', 'z');
  });
  after(() => opened.cleanup());

  test('limit caps kvs, more says keys remain, count ignores the limit', () => {
    const result = opened.store.range(rangeReq('k', 'l', { limit: 2n }));
    assert.deepEqual(result.kvs.map((kv) => text(kv.key)), ['k0', 'k1']);
    assert.equal(result.more, true);
    assert.equal(result.count, 5n);
  });

  test('limit equal to the number of keys has more=false', () => {
    const result = opened.store.range(rangeReq('k', 'l', { limit: 5n }));
    assert.equal(result.kvs.length, 5);
    assert.equal(result.more, false);
  });

  test('min/max mod and create filters drop kvs but not count', () => {
    const minMod = opened.store.range(rangeReq('k', 'l', { minModRevision: 7n }));
    assert.deepEqual(minMod.kvs.map((kv) => text(kv.key)), ['k1', 'k3']);
    assert.equal(minMod.count, 5n);
    const maxMod = opened.store.range(rangeReq('k', 'l', { maxModRevision: 4n }));
    assert.deepEqual(maxMod.kvs.map((kv) => text(kv.key)), ['k0', 'k2']);
    const create = opened.store.range(rangeReq('k', 'l', { minCreateRevision: 3n, maxCreateRevision: 5n }));
    assert.deepEqual(create.kvs.map((kv) => text(kv.key)), ['k1', 'k2', 'k3']);
    assert.equal(create.count, 5n);
  });

  test('a filter with a limit truncates after filtering and sets more', () => {
    const result = opened.store.range(rangeReq('k', 'l', { minCreateRevision: 3n, limit: 2n }));
    assert.deepEqual(result.kvs.map((kv) => text(kv.key)), ['k1', 'k2']);
    assert.equal(result.more, true);
    assert.equal(result.count, 5n);
  });

  test('keys_only returns every field but the value', () => {
    const [kv] = opened.store.range(rangeReq('k1', '', { keysOnly: true })).kvs;
    assert.equal(kv.value.length, 0);
    assert.equal(text(kv.key), 'k1');
    assert.equal(kv.version, 3n);
    assert.equal(kv.createRevision, 3n);
    assert.equal(kv.modRevision, 8n);
  });

  test('count_only returns the count and no kvs', () => {
    const result = opened.store.range(rangeReq('k', 'l', { countOnly: true, limit: 1n }));
    assert.deepEqual(result.kvs, []);
    assert.equal(result.count, 5n);
    assert.equal(result.more, false);
  });
});

describe('range: sorting (facts §5)', () => {
  let opened: OpenedStore;
  before(() => {
    opened = openTestStore();
    put(opened.store, 'a', 'c'); // rev 2
    put(opened.store, 'b', 'a'); // rev 3
    put(opened.store, 'c', 'b'); // rev 4
    put(opened.store, 'a', 'c2'); // rev 5: a version 2
    put(opened.store, 'a', 'c3'); // rev 6: a version 3
    put(opened.store, 'c', 'b2'); // rev 7: c version 2
  });
  after(() => opened.cleanup());

  const sorted = (target: number, order: number, limit = 0n): string[] =>
    keysOf(opened.store, rangeReq('a', '\0', { sortTarget: target as never, sortOrder: order as never, limit }));

  test('KEY ascending is the natural order and KEY descending reverses it', () => {
    assert.deepEqual(sorted(SortTarget.KEY, SortOrder.NONE), ['a', 'b', 'c']);
    assert.deepEqual(sorted(SortTarget.KEY, SortOrder.ASCEND), ['a', 'b', 'c']);
    assert.deepEqual(sorted(SortTarget.KEY, SortOrder.DESCEND), ['c', 'b', 'a']);
  });

  test('VERSION, CREATE, MOD compare as integers and VALUE bytewise', () => {
    assert.deepEqual(sorted(SortTarget.VERSION, SortOrder.DESCEND), ['a', 'c', 'b']);
    assert.deepEqual(sorted(SortTarget.CREATE, SortOrder.DESCEND), ['c', 'b', 'a']);
    assert.deepEqual(sorted(SortTarget.MOD, SortOrder.ASCEND), ['b', 'a', 'c']);
    assert.deepEqual(sorted(SortTarget.VALUE, SortOrder.ASCEND), ['b', 'c', 'a']);
  });

  test('a non-KEY target with order NONE sorts ascending', () => {
    assert.deepEqual(sorted(SortTarget.MOD, SortOrder.NONE), ['b', 'a', 'c']);
    assert.deepEqual(sorted(SortTarget.VALUE, SortOrder.NONE), ['b', 'c', 'a']);
  });

  test('sort with limit sorts the whole range, then truncates', () => {
    const result = opened.store.range(rangeReq('a', '\0', { sortTarget: SortTarget.MOD, sortOrder: SortOrder.DESCEND, limit: 1n }));
    assert.deepEqual(result.kvs.map((kv) => text(kv.key)), ['c']);
    assert.equal(result.more, true);
    assert.equal(result.count, 3n);
  });
});

describe('range: reads at past revisions (facts §5)', () => {
  let opened: OpenedStore;
  before(() => {
    opened = openTestStore();
    put(opened.store, 'a', '1'); // 2
    put(opened.store, 'b', '1'); // 3
    put(opened.store, 'a', '2'); // 4
    del(opened.store, 'b'); // 5
    put(opened.store, 'c', '1'); // 6
    put(opened.store, 'b', 'again'); // 7
  });
  after(() => opened.cleanup());

  test('a past revision shows each key as it was then', () => {
    const at3 = opened.store.range(rangeReq('a', '\0', { revision: 3n }));
    assert.deepEqual(at3.kvs.map((kv) => [text(kv.key), text(kv.value), kv.modRevision]), [
      ['a', '1', 2n],
      ['b', '1', 3n],
    ]);
    assert.equal(at3.count, 2n);
  });

  test('a key deleted by a revision is absent at it, and recreated later starts over', () => {
    assert.deepEqual(keysOf(opened.store, rangeReq('a', '\0', { revision: 5n })), ['a']);
    assert.deepEqual(keysOf(opened.store, rangeReq('b', '', { revision: 6n })), []);
    const [b7] = opened.store.range(rangeReq('b', '', { revision: 7n })).kvs;
    assert.equal(b7.version, 1n);
    assert.equal(b7.createRevision, 7n);
  });

  test('single-key reads at a past revision', () => {
    const [a3] = opened.store.range(rangeReq('a', '', { revision: 3n })).kvs;
    assert.equal(text(a3.value), '1');
    assert.deepEqual(keysOf(opened.store, rangeReq('c', '', { revision: 5n })), []);
  });

  test('limit and count at a past revision', () => {
    const result = opened.store.range(rangeReq('a', '\0', { revision: 6n, limit: 1n }));
    assert.deepEqual(result.kvs.map((kv) => text(kv.key)), ['a']);
    assert.equal(result.count, 2n);
    assert.equal(result.more, true);
  });

  test('revision <= 0 reads the latest; a future revision is refused', () => {
    assert.deepEqual(keysOf(opened.store, rangeReq('a', '\0', { revision: -3n })), ['a', 'b', 'c']);
    assert.equal(opened.store.currentRevision(), 7n);
    assert.equal(opened.store.range(rangeReq('a', '\0', { revision: 7n })).count, 3n);
    assertEtcdError(
      () => opened.store.range(rangeReq('a', '', { revision: 8n })),
      'etcdserver: mvcc: required revision is a future revision',
    );
  });

  test('a long key beyond the store limit reads as absent, and ranges around it work', () => {
    const long = 'a'.repeat(1500);
    assert.deepEqual(keysOf(opened.store, rangeReq(long)), []);
    assert.deepEqual(keysOf(opened.store, rangeReq(long, '\0')), ['b', 'c']);
    assert.deepEqual(keysOf(opened.store, rangeReq('\0', 'b' + long)), ['a', 'b']);
    assert.deepEqual(keysOf(opened.store, rangeReq(long, '\0', { revision: 6n })), ['c']);
  });

  test('binary keys with zero bytes order bytewise at past revisions too', () => {
    const store = opened.store;
    put(store, 'p\0\0', 'x');
    put(store, 'p\0', 'x');
    put(store, 'p', 'x');
    put(store, 'p\x01', 'x');
    const latest = keysOf(store, rangeReq('p', 'q'));
    assert.deepEqual(latest, ['p', 'p\0', 'p\0\0', 'p\x01']);
    assert.deepEqual(keysOf(store, rangeReq('p', 'q', { revision: store.currentRevision() - 1n })), ['p', 'p\0', 'p\0\0']);
    assert.deepEqual(keysOf(store, rangeReq('p\0', 'p\x01', { revision: store.currentRevision() - 1n })), ['p\0', 'p\0\0']);
    assert.equal(b('x').length, 1);
  });
});
