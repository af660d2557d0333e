import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { AlarmType } from '../../src/api/member-port';
import { rangeRequestFromWire } from '../../src/api/codec/kv-requests';
import { extractDatabase, SnapshotFileError } from '../../src/cli/snapshot-file';
import { humanBytes, snapshotStatus, statusJson, statusTable } from '../../src/cli/snapshot-status';
import { silentLogger } from '../../src/log';
import { ActiveAlarms, decodeAlarms, encodeAlarms } from '../../src/server/alarms';
import { BackendQuota, growsDatabase } from '../../src/server/quota';
import { MvccStore, temporaryStoreDirectory } from '../../src/storage/mvcc';

const put = (key: string, value: Buffer) => ({ key: Buffer.from(key), value, lease: 0n, prevKv: false, ignoreValue: false, ignoreLease: false });

describe('alarms', () => {
  test('activate and deactivate report whether they changed anything; NONE is never raised', () => {
    const alarms = new ActiveAlarms([]);
    assert.equal(alarms.activate(7n, AlarmType.NOSPACE), true);
    assert.equal(alarms.activate(7n, AlarmType.NOSPACE), false);
    assert.equal(alarms.activate(7n, AlarmType.NONE), false);
    assert.equal(alarms.activate(9n, AlarmType.CORRUPT), true);
    assert.deepEqual(alarms.list(AlarmType.NOSPACE), [{ memberId: 7n, alarm: AlarmType.NOSPACE }]);
    assert.equal(alarms.list().length, 2);
    assert.deepEqual(decodeAlarms(encodeAlarms(alarms.list())), alarms.list());
    assert.equal(alarms.deactivate(8n, AlarmType.NOSPACE), false);
    assert.equal(alarms.deactivate(7n, AlarmType.NOSPACE), true);
    assert.equal(alarms.has(AlarmType.NOSPACE), false);
    assert.deepEqual(decodeAlarms(undefined), []);
  });
});

describe('backend quota', () => {
  test('puts, txns with puts and lease grants cost space; deletes, compaction and read txns do not', () => {
    let size = 900n;
    const quota = new BackendQuota(() => size, 1000n, () => 0, 0);
    assert.equal(quota.available({ kind: 'put', put: put('k', Buffer.alloc(10)) }), false);
    assert.equal(quota.available({ kind: 'deleteRange', deleteRange: { key: Buffer.from('k'), rangeEnd: Buffer.alloc(0), prevKv: false } }), true);
    assert.equal(quota.available({ kind: 'compaction', compaction: { revision: 3n, physical: false } }), true);
    const readTxn = { compare: [], success: [{ kind: 'range' as const, range: { key: Buffer.from('k') } as never }], failure: [] };
    assert.equal(growsDatabase({ kind: 'txn', txn: readTxn }), false);
    const writeTxn = { compare: [], success: [], failure: [{ kind: 'txn' as const, txn: { compare: [], success: [{ kind: 'put' as const, put: put('k', Buffer.alloc(1)) }], failure: [] } }] };
    assert.equal(growsDatabase({ kind: 'txn', txn: writeTxn }), true);
    assert.equal(growsDatabase({ kind: 'leaseGrant', leaseId: 1n, ttlSeconds: 5n }), true);
    size = 100n;
    assert.equal(quota.available({ kind: 'put', put: put('k', Buffer.alloc(10)) }), true);
    assert.equal(quota.available({ kind: 'put', put: put('k', Buffer.alloc(700)) }), false);
  });
});

describe('snapshot files', () => {
  test('defragment shrinks the file after deletes and compaction; a snapshot round-trips with status', async () => {
    const dir = temporaryStoreDirectory('latchkey-ops-');
    try {
      const store = MvccStore.open(path.join(dir, 'db'), { logger: silentLogger() });
      const value = Buffer.alloc(16 * 1024, 'v');
      store.write((w) => {
        for (let i = 0; i < 300; i += 1) w.put(put(`k${i}`, value), () => false);
      });
      store.write((w) => {
        w.deleteRange({ key: Buffer.from('k'), rangeEnd: Buffer.from('l'), prevKv: false });
        w.put(put('kept', Buffer.from('x')), () => false);
      });
      store.write((w) => w.compact(w.currentRevision()));
      await store.flushed();
      const before = store.dbSizeBytes();
      await store.defragment();
      const after = store.dbSizeBytes();
      assert.ok(after * 4n < before, `defragment left ${after} of ${before} bytes`);
      assert.equal(store.range(rangeRequestFromWire({ key: Buffer.from('kept') })).kvs.length, 1);
      const revision = store.currentRevision();

      const raw = path.join(dir, 'raw.db');
      await store.copyTo(raw);
      await store.close();
      const saved = path.join(dir, 'saved.db');
      const bytes = fs.readFileSync(raw);
      fs.writeFileSync(saved, Buffer.concat([bytes, createHash('sha256').update(bytes).digest()]));

      const status = await snapshotStatus(saved);
      assert.equal(status.revision, revision);
      assert.equal(status.totalSize, BigInt(bytes.length));
      assert.ok(status.totalKey > 1, `totalKey ${status.totalKey}`);
      assert.deepEqual(Object.keys(JSON.parse(statusJson(status)) as object), ['hash', 'revision', 'totalKey', 'totalSize']);
      const table = statusTable(status).split('\n');
      assert.match(table[1]!, /^\|\s+HASH\s+\|\s+REVISION\s+\|\s+TOTAL KEYS\s+\|\s+TOTAL SIZE\s+\|$/);
      assert.equal(new Set(table.filter((l) => l.length > 0).map((l) => l.length)).size, 1, 'aligned columns');

      const out = path.join(dir, 'out.db');
      await extractDatabase(saved, out, false);
      assert.ok(fs.readFileSync(out).equals(bytes));
      await assert.rejects(extractDatabase(raw, out, false), /missing hash/);
      fs.writeFileSync(path.join(dir, 'bolt.db'), Buffer.alloc(8192 + 32));
      await assert.rejects(extractDatabase(path.join(dir, 'bolt.db'), out, false), SnapshotFileError);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('sizes print as etcdctl prints them', () => {
    assert.equal(humanBytes(5n), '5 B');
    assert.equal(humanBytes(20_480n), '20 kB');
    assert.equal(humanBytes(2_101_248n), '2.1 MB');
  });
});
