import { afterEach, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { EtcdError } from '../../../src/errors';
import { validateTxn } from '../../../src/storage/mvcc';
import type { RequestOp, ResponseOp } from '../../../src/storage/mvcc/types';
import {
  b,
  compare,
  CompareResult as R,
  CompareTarget as T,
  del,
  deleteReq,
  keysOf,
  op,
  openTestStore,
  put,
  putReq,
  rangeReq,
  text,
  txn,
  txnReq,
  type OpenedStore,
} from './helpers';

function assertEtcdError(fn: () => unknown, message: string): void {
  assert.throws(fn, (error: unknown) => error instanceof EtcdError && error.message === message);
}

function rangeOf(response: ResponseOp | undefined) {
  assert.ok(response && response.kind === 'range');
  return response;
}

const LEASE = 1000n;
const leaseExists = (id: bigint): boolean => id === LEASE;

describe('txn compares (facts §7)', () => {
  let opened: OpenedStore;
  beforeEach(() => {
    opened = openTestStore();
    put(opened.store, 'a', 'abc'); // 2
    put(opened.store, 'b', 'abd'); // 3
    put(opened.store, 'b', 'abd'); // 4: b version 2
  });
  afterEach(() => opened.cleanup());

  const holds = (...compares: ReturnType<typeof compare>[]): boolean =>
    txn(opened.store, txnReq(compares, [], [])).result.succeeded;

  test('documented examples on a missing key', () => {
    assert.equal(holds(compare('missing', T.CREATE, R.EQUAL, 0n)), true);
    assert.equal(holds(compare('missing', T.VERSION, R.EQUAL, 0n)), true);
    assert.equal(holds(compare('missing', T.MOD, R.LESS, 5n)), true);
    assert.equal(holds(compare('missing', T.VALUE, R.NOT_EQUAL, 'x')), false);
    assert.equal(holds(compare('missing', T.VALUE, R.EQUAL, '')), false);
    assert.equal(holds(compare('x', T.VERSION, R.GREATER, 0n, 'y')), false);
    assert.equal(holds(compare('missing', T.LEASE, R.EQUAL, 0n)), true);
  });

  test('an empty compare list is true and an empty txn succeeds with no responses', () => {
    const { result, outcome } = txn(opened.store, txnReq([], [], []));
    assert.deepEqual(result, { succeeded: true, responses: [] });
    assert.equal(outcome.revision, 4n);
  });

  test('value compares are bytewise', () => {
    assert.equal(holds(compare('a', T.VALUE, R.LESS, 'abd')), true);
    assert.equal(holds(compare('a', T.VALUE, R.GREATER, 'ab')), true);
    assert.equal(holds(compare('a', T.VALUE, R.LESS, '\xff')), true);
    assert.equal(holds(compare('a', T.VALUE, R.EQUAL, 'abc')), true);
    assert.equal(holds(compare('a', T.VALUE, R.NOT_EQUAL, 'abc')), false);
  });

  test('integer compares on existing keys', () => {
    assert.equal(holds(compare('b', T.VERSION, R.EQUAL, 2n)), true);
    assert.equal(holds(compare('b', T.CREATE, R.EQUAL, 3n), compare('b', T.MOD, R.EQUAL, 4n)), true);
    assert.equal(holds(compare('a', T.MOD, R.GREATER, 2n)), false);
  });

  test('a range compare must hold for every key in the range', () => {
    assert.equal(holds(compare('a', T.VALUE, R.GREATER, 'ab', 'c')), true);
    assert.equal(holds(compare('a', T.VALUE, R.EQUAL, 'abc', 'c')), false);
    assert.equal(holds(compare('a', T.VERSION, R.GREATER, 0n, '\0')), true);
    assert.equal(holds(compare('a', T.VERSION, R.EQUAL, 1n, '\0')), false);
  });

  test('the failure branch runs when a compare is false', () => {
    const { result } = txn(
      opened.store,
      txnReq([compare('a', T.VALUE, R.EQUAL, 'nope')], [op.put(putReq('s', '1'))], [op.put(putReq('f', '1'))]),
    );
    assert.equal(result.succeeded, false);
    assert.deepEqual(keysOf(opened.store, rangeReq('f')), ['f']);
    assert.deepEqual(keysOf(opened.store, rangeReq('s')), []);
  });
});

describe('txn execution (facts §3, §7)', () => {
  let opened: OpenedStore;
  beforeEach(() => {
    opened = openTestStore();
    put(opened.store, 'a', '1'); // 2
    put(opened.store, 'b', '1'); // 3
  });
  afterEach(() => opened.cleanup());

  test('a later op sees earlier writes; a second delete of a key deletes nothing', () => {
    const { result, outcome } = txn(
      opened.store,
      txnReq(
        [],
        [
          op.put(putReq('c', 'new')),
          op.range(rangeReq('a', '\0')),
          op.del(deleteReq('a')),
          op.del(deleteReq('a', 'b')),
          op.range(rangeReq('a', '\0', { countOnly: true })),
        ],
      ),
    );
    const all = rangeOf(result.responses[1]);
    assert.deepEqual(all.range.kvs.map((kv) => [text(kv.key), text(kv.value)]), [
      ['a', '1'],
      ['b', '1'],
      ['c', 'new'],
    ]);
    assert.equal(all.range.count, 3n);
    const [, , first, second] = result.responses;
    assert.ok(first.kind === 'deleteRange' && second.kind === 'deleteRange');
    assert.equal(first.deleteRange.deleted, 1n);
    assert.equal(second.deleteRange.deleted, 0n);
    assert.equal(rangeOf(result.responses[4]).range.count, 2n);
    assert.equal(outcome.revision, 4n);
    assert.deepEqual(outcome.events.map((e) => [e.type, text(e.kv.key), e.kv.modRevision]), [
      [0, 'c', 4n],
      [1, 'a', 4n],
    ]);
  });

  test('inner header revisions: range = visible revision, put/delete = the txn revision', () => {
    const { result, outcome } = txn(
      opened.store,
      txnReq(
        [],
        [
          op.del(deleteReq('missing')),
          op.range(rangeReq('a')),
          op.put(putReq('a', '2')),
          op.range(rangeReq('a')),
          op.del(deleteReq('missing')),
          op.txn(txnReq([], [op.put(putReq('n', '1'))])),
        ],
      ),
    );
    const headers = result.responses.map((r) => (r.kind === 'txn' ? 'txn' : r.headerRevision));
    assert.deepEqual(headers, [3n, 3n, 4n, 4n, 4n, 'txn']);
    assert.equal(outcome.revision, 4n);
    assert.equal(opened.store.range(rangeReq('n')).kvs[0].modRevision, 4n);
  });

  test('a txn with many puts takes one revision and all kvs share it', () => {
    const ops: RequestOp[] = [];
    for (let i = 0; i < 128; i++) ops.push(op.put(putReq(`k${String(i).padStart(3, '0')}`, 'v')));
    const { outcome } = txn(opened.store, txnReq([], ops));
    assert.equal(outcome.revision, 4n);
    assert.equal(outcome.events.length, 128);
    const result = opened.store.range(rangeReq('k', 'l', { minModRevision: 4n, maxModRevision: 4n }));
    assert.equal(result.kvs.length, 128);
  });

  test('a read-only txn keeps the revision', () => {
    const { result, outcome } = txn(opened.store, txnReq([], [op.range(rangeReq('a'))]));
    assert.equal(result.succeeded, true);
    assert.equal(outcome.revision, 3n);
    assert.deepEqual(outcome.events, []);
    assert.equal(opened.store.currentRevision(), 3n);
  });

  test('nested compares are evaluated before any op of the outer txn', () => {
    const { result } = txn(
      opened.store,
      txnReq(
        [],
        [
          op.put(putReq('x', '1')),
          op.txn(txnReq([compare('x', T.VERSION, R.GREATER, 0n)], [op.put(putReq('saw-x', '1'))], [op.put(putReq('no-x', '1'))])),
        ],
      ),
    );
    const nested = result.responses[1];
    assert.ok(nested.kind === 'txn');
    assert.equal(nested.txn.succeeded, false);
    assert.deepEqual(keysOf(opened.store, rangeReq('n', 't')), ['no-x']);
  });

  test('a txn whose chosen branch fails a check changes nothing', () => {
    assertEtcdError(
      () => txn(opened.store, txnReq([], [op.put(putReq('c', '1')), op.put(putReq('d', '1', { lease: 77n }))]), leaseExists),
      'etcdserver: requested lease not found',
    );
    assertEtcdError(
      () => txn(opened.store, txnReq([], [op.del(deleteReq('a')), op.put(putReq('zz', '', { ignoreValue: true }))])),
      'etcdserver: key not found',
    );
    assertEtcdError(
      () => txn(opened.store, txnReq([], [op.put(putReq('c', '1')), op.range(rangeReq('a', '', { revision: 99n }))])),
      'etcdserver: mvcc: required revision is a future revision',
    );
    assert.equal(opened.store.currentRevision(), 3n);
    assert.deepEqual(keysOf(opened.store, rangeReq('a', '\0')), ['a', 'b']);
  });

  test('checks run only on the branch taken: lease, ignore_value key, future revision', () => {
    const { result } = txn(
      opened.store,
      txnReq(
        [],
        [op.put(putReq('ok', '1'))],
        [
          op.put(putReq('x', '1', { lease: 77n })),
          op.put(putReq('missing', '', { ignoreValue: true })),
          op.range(rangeReq('a', '', { revision: 99n })),
        ],
      ),
      leaseExists,
    );
    assert.equal(result.succeeded, true);
    assert.deepEqual(keysOf(opened.store, rangeReq('ok')), ['ok']);
  });

  test('a put with an existing lease inside a txn attaches it', () => {
    txn(opened.store, txnReq([], [op.put(putReq('leased', '1', { lease: LEASE }))]), leaseExists);
    assert.equal(opened.store.range(rangeReq('leased')).kvs[0].lease, LEASE);
  });

  test('a "\\0" delete then an ignore_value put of a deleted key fails atomically, batch intact', () => {
    const outcome = opened.store.write((w) => {
      w.put(putReq('before', '1'), leaseExists);
      assertEtcdError(
        () => w.txn(txnReq([], [op.del(deleteReq('a', '\0')), op.put(putReq('a', '', { ignoreValue: true }))]), leaseExists),
        'etcdserver: key not found',
      );
      return w.put(putReq('after', '1'), leaseExists).outcome;
    });
    assert.equal(outcome.revision, 5n);
    assert.deepEqual(keysOf(opened.store, rangeReq('a', '\0')), ['a', 'after', 'b', 'before']);
  });

  test('the same refusal reaches into a nested txn; a put outside the deleted range still goes through', () => {
    assertEtcdError(
      () => txn(opened.store, txnReq([], [op.del(deleteReq('a', '\0')), op.txn(txnReq([], [op.put(putReq('b', '', { ignoreValue: true }))]))]), leaseExists),
      'etcdserver: key not found',
    );
    assert.deepEqual(keysOf(opened.store, rangeReq('a', '\0')), ['a', 'b']);
    const before = opened.store.range(rangeReq('a')).kvs[0].value;
    txn(opened.store, txnReq([], [op.del(deleteReq('b', '\0')), op.put(putReq('a', '', { ignoreValue: true }))]), leaseExists);
    assert.deepEqual(keysOf(opened.store, rangeReq('a', '\0')), ['a']);
    assert.deepEqual(opened.store.range(rangeReq('a')).kvs[0].value, before);
  });

  test('range ops in a txn at a compacted revision fail the txn', () => {
    put(opened.store, 'a', '2'); // 4
    opened.store.write((w) => w.compact(4n));
    assertEtcdError(
      () => txn(opened.store, txnReq([], [op.range(rangeReq('a', '', { revision: 3n }))])),
      'etcdserver: mvcc: required revision has been compacted',
    );
    const { result } = txn(opened.store, txnReq([], [op.range(rangeReq('a', '', { revision: 4n }))]));
    assert.equal(text(rangeOf(result.responses[0]).range.kvs[0].value), '2');
  });

  test('nested txns may put then delete the same key: two events in one revision', () => {
    const { outcome } = txn(
      opened.store,
      txnReq([], [op.txn(txnReq([], [op.put(putReq('a', 'gone'))])), op.txn(txnReq([], [op.del(deleteReq('a'))]))]),
    );
    assert.equal(outcome.revision, 4n);
    assert.deepEqual(outcome.events.map((e) => [e.type, text(e.kv.key), e.prevKv ? text(e.prevKv.value) : null]), [
      [0, 'a', '1'],
      [1, 'a', 'gone'],
    ]);
    assert.deepEqual(keysOf(opened.store, rangeReq('a')), []);
    assert.deepEqual(keysOf(opened.store, rangeReq('a', '', { revision: 4n })), []);
    assert.equal(text(opened.store.range(rangeReq('a', '', { revision: 3n })).kvs[0].value), '1');
    const replayed = opened.store.eventsBetween(4n, 4n, b('a'), b(''));
    assert.deepEqual(replayed.map((e) => [e.type, e.prevKv ? text(e.prevKv.value) : null]), [
      [0, '1'],
      [1, '1'],
    ]);
  });

  test('a range at a past revision inside a writing txn does not see the txn writes', () => {
    const { result } = txn(
      opened.store,
      txnReq([], [op.put(putReq('a', 'new')), op.range(rangeReq('a', '', { revision: 3n })), op.range(rangeReq('a'))]),
    );
    assert.equal(text(rangeOf(result.responses[1]).range.kvs[0].value), '1');
    assert.equal(text(rangeOf(result.responses[2]).range.kvs[0].value), 'new');
  });
});

describe('txn validation (facts §7)', () => {
  let opened: OpenedStore;
  beforeEach(() => {
    opened = openTestStore();
  });
  afterEach(() => opened.cleanup());

  const puts = (count: number, prefix = 'k'): RequestOp[] =>
    Array.from({ length: count }, (_, i) => op.put(putReq(`${prefix}${i}`, 'v')));

  test('128 ops are accepted, 129 puts or 129 compares are refused', () => {
    assert.doesNotThrow(() => validateTxn(txnReq([], puts(128)), 128));
    assertEtcdError(() => validateTxn(txnReq([], puts(129)), 128), 'etcdserver: too many operations in txn request');
    const compares = Array.from({ length: 129 }, (_, i) => compare(`c${i}`, T.VERSION, R.EQUAL, 0n));
    assertEtcdError(() => validateTxn(txnReq(compares, []), 128), 'etcdserver: too many operations in txn request');
    assertEtcdError(() => txn(opened.store, txnReq([], puts(129))), 'etcdserver: too many operations in txn request');
  });

  test('a nested txn is checked against the remaining budget', () => {
    const outer = (nestedCount: number) => txnReq([], [...puts(99, 'o'), op.txn(txnReq([], puts(nestedCount, 'n')))]);
    assert.doesNotThrow(() => validateTxn(outer(28), 128));
    assertEtcdError(() => validateTxn(outer(29), 128), 'etcdserver: too many operations in txn request');
  });

  test('the maxTxnOps option is honoured at apply', async () => {
    const small = openTestStore(2);
    try {
      assertEtcdError(() => txn(small.store, txnReq([], puts(3))), 'etcdserver: too many operations in txn request');
      assert.equal(txn(small.store, txnReq([], puts(2))).outcome.revision, 2n);
    } finally {
      await small.cleanup();
    }
  });

  test('refused duplicate keys', () => {
    const dup = 'etcdserver: duplicate key given in txn request';
    assertEtcdError(() => validateTxn(txnReq([], [op.put(putReq('a', '1')), op.put(putReq('a', '2'))])), dup);
    assertEtcdError(() => validateTxn(txnReq([], [op.put(putReq('a', '1')), op.txn(txnReq([], [op.put(putReq('a', '2'))]))])), dup);
    assertEtcdError(() => validateTxn(txnReq([], [op.del(deleteReq('a', 'c')), op.put(putReq('b', '1'))])), dup);
    assertEtcdError(() => validateTxn(txnReq([], [op.put(putReq('a', '1')), op.del(deleteReq('a'))])), dup);
    assertEtcdError(() => validateTxn(txnReq([], [op.txn(txnReq([], [op.del(deleteReq('a', 'c'))])), op.put(putReq('b', '1'))])), dup);
    assertEtcdError(() => validateTxn(txnReq([], [], [op.put(putReq('a', '1')), op.put(putReq('a', '2'))])), dup);
    assertEtcdError(() => txn(opened.store, txnReq([], [op.put(putReq('a', '1')), op.put(putReq('a', '2'))])), dup);
    assert.equal(opened.store.currentRevision(), 1n);
  });

  test('allowed repeats: success vs failure, overlapping deletes, ranges, nested then/else', () => {
    assert.doesNotThrow(() => validateTxn(txnReq([], [op.put(putReq('a', '1'))], [op.put(putReq('a', '2'))])));
    assert.doesNotThrow(() => validateTxn(txnReq([], [op.del(deleteReq('a', 'c')), op.del(deleteReq('b', 'd'))])));
    assert.doesNotThrow(() => validateTxn(txnReq([], [op.put(putReq('a', '1')), op.range(rangeReq('a'))])));
    assert.doesNotThrow(() =>
      validateTxn(txnReq([], [op.txn(txnReq([], [op.put(putReq('a', '1'))], [op.put(putReq('a', '2'))]))])),
    );
  });

  test('empty keys and empty ops are refused in either branch', () => {
    assertEtcdError(() => validateTxn(txnReq([compare('', T.VERSION, R.EQUAL, 0n)], [])), 'etcdserver: key is not provided');
    assertEtcdError(() => validateTxn(txnReq([], [], [op.put(putReq('', '1'))])), 'etcdserver: key is not provided');
    assertEtcdError(() => validateTxn(txnReq([], [op.range(rangeReq(''))])), 'etcdserver: key is not provided');
    assertEtcdError(() => validateTxn(txnReq([], [], [op.none()])), 'etcdserver: key not found');
    assertEtcdError(() => validateTxn(txnReq([], [op.put(putReq('a', 'x', { ignoreValue: true }))])), 'etcdserver: value is provided');
  });

  test('a txn refused by validation changes nothing even if its other branch would run', () => {
    put(opened.store, 'a', '1');
    assertEtcdError(
      () => txn(opened.store, txnReq([], [op.put(putReq('b', '1'))], [op.put(putReq('c', '1')), op.put(putReq('c', '2'))])),
      'etcdserver: duplicate key given in txn request',
    );
    assert.deepEqual(keysOf(opened.store, rangeReq('a', '\0')), ['a']);
    del(opened.store, 'a');
    assert.equal(opened.store.currentRevision(), 3n);
  });
});
