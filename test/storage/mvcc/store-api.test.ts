import { afterEach, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { EtcdError } from '../../../src/errors';
import { b, compare, CompareResult as R, CompareTarget as T, op, openTestStore, put, putReq, rangeReq, text, txnReq, type OpenedStore } from './helpers';

const LEASE = 4242n;

describe('store API helpers', () => {
  let opened: OpenedStore;
  beforeEach(() => {
    opened = openTestStore();
    put(opened.store, 'a', '1'); // 2
    put(opened.store, 'held', 'x', { lease: LEASE }, (id) => id === LEASE); // 3
  });
  afterEach(() => opened.cleanup());

  test('readTxn evaluates a range-only txn without a revision change', () => {
    const result = opened.store.readTxn(
      txnReq([compare('a', T.VALUE, R.EQUAL, '1')], [op.range(rangeReq('a', '\0', { countOnly: true }))], []),
    );
    assert.equal(result.succeeded, true);
    const [response] = result.responses;
    assert.ok(response.kind === 'range');
    assert.equal(response.range.count, 2n);
    assert.equal(response.headerRevision, 3n);
    assert.equal(opened.store.currentRevision(), 3n);
  });

  test('readTxn refuses a txn that writes, and applies range checks', () => {
    assert.throws(() => opened.store.readTxn(txnReq([], [op.put(putReq('b', '1'))])), /propose it through Raft/);
    assert.throws(
      () => opened.store.readTxn(txnReq([], [op.range(rangeReq('a', '', { revision: 10n }))])),
      (error: unknown) => error instanceof EtcdError && /future revision/.test(error.message),
    );
  });

  test('leasedKeys lists live keys with their lease', () => {
    assert.deepEqual(
      opened.store.leasedKeys().map(({ key, lease }) => [text(key), lease]),
      [['held', LEASE]],
    );
  });

  test('the writer reads its own batch; the store refuses reads inside write()', () => {
    opened.store.write((w) => {
      w.put(putReq('b', 'in-batch'), () => false);
      assert.equal(text(w.range(rangeReq('b')).kvs[0].value), 'in-batch');
      assert.equal(w.currentRevision(), 4n);
      assert.throws(() => opened.store.range(rangeReq('b')), /inside write\(\)/);
    });
    assert.equal(opened.store.range(rangeReq('b')).kvs[0].modRevision, 4n);
    assert.equal(b('b').length, 1);
  });

  test('flushed resolves after writes', async () => {
    put(opened.store, 'c', '1');
    await opened.store.flushed();
  });
});
