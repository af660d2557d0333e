import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { EtcdClient, prefixEnd } from '../support/etcd-client';
import { startLatchkey, stopAll } from '../support/processes';

/**
 * lmdb-js 3.5.6 can refuse a commit in its free-list code under sustained writes (MDB_BAD_TXN
 * "reserved freelist had a data entry with zero-size"); the transaction is aborted. The
 * `storeCommit` failpoint refuses one commit the same way: the member must reopen its store,
 * apply the batch again and go on serving, with every write acknowledged exactly once.
 */
describe('a commit LMDB refuses', () => {
  after(stopAll);

  test('is applied again after a reopen: the member keeps serving and no write is lost or doubled', async () => {
    // Hit 12 lands among the puts below (start-up makes a handful of commits before them).
    const server = await startLatchkey({ env: { LATCHKEY_FAILPOINTS: 'storeCommit=error@12' } });
    const client = new EtcdClient(server.endpoint);
    try {
      const revisions: bigint[] = [];
      for (let i = 0; i < 30; i++) {
        const answer = await client.put({ key: Buffer.from(`refused/${i}`), value: Buffer.from(`v${i}`) }, { deadlineMs: 10_000 });
        revisions.push(BigInt(answer.header.revision));
      }
      assert.equal(server.exited, false, server.output().slice(-3000));
      assert.match(server.output(), /LMDB refused a commit; reopening the store and applying the batch again/);
      assert.match(server.output(), /mvcc store reopened/);
      // One revision per put, none skipped or repeated across the refused commit.
      for (let i = 1; i < revisions.length; i++) assert.equal(revisions[i], revisions[i - 1]! + 1n, `revisions ${revisions.join(',')}`);
      const listed = await client.range({ key: Buffer.from('refused/'), range_end: prefixEnd('refused/') });
      assert.equal(listed.kvs.length, 30);
      const values = new Map<string, { value: Buffer; version: string | number }>();
      for (const kv of listed.kvs as Array<{ key: Buffer; value: Buffer; version: string | number }>) values.set(kv.key.toString(), kv);
      for (let i = 0; i < 30; i++) {
        const kv = values.get(`refused/${i}`);
        assert.equal(kv?.value.toString(), `v${i}`);
        assert.equal(String(kv?.version), '1', 'each key was written once');
      }
    } finally {
      client.close();
    }
  });
});
