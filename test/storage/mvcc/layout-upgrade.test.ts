/**
 * A store written by a build before layout 2 (latest held whole KeyValues, not history keys)
 * must open with every key, version and revision intact: a user upgrading latchkey, or a
 * member receiving a snapshot file from an older member, keeps every acknowledged write.
 */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { openDatabases, MetaKey } from '../../../src/storage/mvcc/schema';
import { uint64Bytes } from '../../../src/storage/mvcc/revision';
import { MvccStore } from '../../../src/storage/mvcc';
import { silentLogger } from '../../../src/log';
import { del, op, openTestStore, put, putReq, rangeReq, txn, txnReq, type OpenedStore } from './helpers';

/** Rewrites a closed store's files the way a layout-1 build left them. */
async function downgradeToLayoutOne(directory: string): Promise<void> {
  const dbs = openDatabases(directory, undefined);
  const live = [...dbs.latest.getRange({})].map(({ key, value }) => ({ key, kv: dbs.history.get(value)! }));
  await dbs.root.transaction(() => {
    for (const { key, kv } of live) dbs.latest.putSync(key, kv);
    dbs.meta.removeSync(MetaKey.layout);
  });
  await dbs.root.close();
}

function fillStore(opened: OpenedStore): void {
  put(opened.store, 'a', 'one'); // 2
  // Several puts in one request: their sub revisions are 0, 1, 2, and only the key index has them.
  txn(opened.store, txnReq([], [op.put(putReq('b', 'two')), op.put(putReq('c', 'three')), op.put(putReq('a', 'four'))]));
  put(opened.store, 'd', 'gone');
  del(opened.store, 'd');
  put(opened.store, 'c', 'five');
}

describe('layout upgrade', () => {
  it('opens a layout-1 store with the same keys, versions and revisions', async () => {
    const opened = openTestStore();
    try {
      fillStore(opened);
      const before = opened.store.range(rangeReq('\0', '\0'));
      const revision = opened.store.currentRevision();
      await opened.store.close();
      await downgradeToLayoutOne(opened.directory);

      opened.store = MvccStore.open(opened.directory, { logger: silentLogger() });
      assert.deepEqual(opened.store.range(rangeReq('\0', '\0')), before);
      assert.equal(opened.store.currentRevision(), revision);
      assert.deepEqual(opened.store.range(rangeReq('a')).kvs.map((kv) => [kv.value.toString(), kv.version]), [['four', 2n]]);
      // A write after the upgrade builds on the versions it found.
      put(opened.store, 'b', 'six');
      const [b] = opened.store.range(rangeReq('b')).kvs;
      assert.deepEqual([b!.value.toString(), b!.version, b!.createRevision], ['six', 2n, 3n]);
    } finally {
      await opened.cleanup();
    }
  });

  it('refuses a store from a newer layout without changing it', async () => {
    const opened = openTestStore();
    try {
      put(opened.store, 'a', 'one');
      await opened.store.close();
      const dbs = openDatabases(opened.directory, undefined);
      await dbs.meta.put(MetaKey.layout, uint64Bytes(3n));
      const liveBefore = [...dbs.latest.getRange({})].map(({ key, value }) => [Buffer.from(key), Buffer.from(value)]);
      await dbs.root.close();
      assert.throws(() => MvccStore.open(opened.directory, { logger: silentLogger() }), /layout 3; this build reads layout 2/);
      const reopened = openDatabases(opened.directory, undefined);
      const liveAfter = [...reopened.latest.getRange({})].map(({ key, value }) => [Buffer.from(key), Buffer.from(value)]);
      assert.deepEqual(liveAfter, liveBefore);
      assert.equal(liveAfter.length, 1);
      assert.deepEqual(Buffer.from(reopened.meta.get(MetaKey.layout)!), uint64Bytes(3n));
      await reopened.root.close();
    } finally {
      await opened.cleanup();
    }
  });
});
