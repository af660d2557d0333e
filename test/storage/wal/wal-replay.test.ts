import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import type { SnapshotMetadata } from '../../../src/consensus/types';
import { silentLogger } from '../../../src/log';
import { Wal } from '../../../src/storage/wal';
import { entries, withTempDir } from './wal-test-support';

const metadata = Buffer.from('cluster=7;member=42');
const options = () => ({ segmentBytes: 512, logger: silentLogger() });

describe('WAL round trip', () => {
  test('entries and hard state saved across several segments come back identical after reopen', () =>
    withTempDir(async (dir) => {
      assert.equal(Wal.exists(dir), false);
      const wal = await Wal.create(dir, metadata, options());
      const saved = entries(1n, 60);
      for (let i = 0; i < saved.length; i += 6) {
        await wal.save({ term: 1n, vote: 3n, commit: BigInt(i) }, saved.slice(i, i + 6));
      }
      await wal.save({ term: 2n, vote: 5n, commit: 58n }, []);
      assert.ok(wal.segmentFiles().length >= 4, `expected several segments, got ${wal.segmentFiles().length}`);
      await wal.close();

      assert.equal(Wal.exists(dir), true);
      const { wal: reopened, recovery } = await Wal.open(dir, undefined, options());
      assert.deepEqual(Buffer.from(recovery.metadata ?? []), metadata);
      assert.deepEqual(recovery.hardState, { term: 2n, vote: 5n, commit: 58n });
      assert.equal(recovery.snapshot, undefined);
      assert.deepEqual(recovery.entries.map(normalize), saved.map(normalize));
      await reopened.close();
    }));

  test('appends after reopen continue the chain and survive another reopen', () =>
    withTempDir(async (dir) => {
      const wal = await Wal.create(dir, metadata, options());
      await wal.save(undefined, entries(1n, 20));
      await wal.close();
      const first = await Wal.open(dir, undefined, options());
      await first.wal.save({ term: 1n, vote: 1n, commit: 30n }, entries(21n, 20));
      await first.wal.close();
      const second = await Wal.open(dir, undefined, options());
      assert.deepEqual(second.recovery.entries.map((e) => e.index), range(1n, 40n));
      assert.equal(second.recovery.hardState.commit, 30n);
      await second.wal.close();
    }));

  test('a conflicting re-append of index i replaces i and everything after it', () =>
    withTempDir(async (dir) => {
      const wal = await Wal.create(dir, metadata, options());
      await wal.save(undefined, entries(1n, 10, 1n, 'old'));
      await wal.save(undefined, entries(6n, 2, 2n, 'new')); // leader of term 2 overwrote 6..10 with 6..7
      await wal.close();
      const { wal: reopened, recovery } = await Wal.open(dir, undefined, options());
      assert.deepEqual(recovery.entries.map((e) => [e.index, e.term]), [
        [1n, 1n], [2n, 1n], [3n, 1n], [4n, 1n], [5n, 1n], [6n, 2n], [7n, 2n],
      ]);
      assert.equal(Buffer.from(recovery.entries[5].data).toString().startsWith('new-6'), true);
      await reopened.close();
    }));

  test('replay from a snapshot marker returns only the entries after it', () =>
    withTempDir(async (dir) => {
      const wal = await Wal.create(dir, metadata, options());
      await wal.save({ term: 1n, vote: 1n, commit: 25n }, entries(1n, 25));
      const snapshot: SnapshotMetadata = { index: 20n, term: 1n, confState: { voters: [1n, 2n, 3n], learners: [9n] } };
      await wal.saveSnapshotMarker(snapshot);
      await wal.save(undefined, entries(26n, 10));
      await wal.close();
      const { wal: reopened, recovery } = await Wal.open(dir, snapshot, options());
      assert.deepEqual(recovery.snapshot, snapshot);
      assert.deepEqual(recovery.entries.map((e) => e.index), range(21n, 35n));
      await reopened.close();
    }));

  test('a follower that installed a snapshot far past its log replays from it, even when the marker cut a segment', () =>
    withTempDir(async (dir) => {
      const created = await Wal.create(dir, metadata, { segmentBytes: 64 * 1024 * 1024, logger: silentLogger() });
      await created.save({ term: 1n, vote: 1n, commit: 10n }, entries(1n, 10));
      assert.equal(created.segmentFiles().length, 1);
      await created.close();
      const sizeBytes = (await fs.stat(created.segmentFiles()[0])).size;
      // The marker record alone pushes the segment over the limit, so a cut follows it.
      const { wal } = await Wal.open(dir, undefined, { segmentBytes: sizeBytes + 10, logger: silentLogger() });
      const installed: SnapshotMetadata = { index: 1000n, term: 3n, confState: { voters: [1n, 2n], learners: [] } };
      await wal.saveSnapshotMarker(installed);
      assert.equal(wal.segmentFiles().length, 2);
      await wal.save({ term: 3n, vote: 0n, commit: 1002n }, entries(1001n, 3, 3n));
      await wal.releaseBefore(1000n);
      await wal.close();
      const { wal: reopened, recovery } = await Wal.open(dir, installed, options());
      assert.deepEqual(recovery.entries.map((e) => e.index), [1001n, 1002n, 1003n]);
      assert.equal(recovery.hardState.commit, 1002n);
      await reopened.close();
    }));

  test('replay from a snapshot with no marker in the WAL refuses to start', () =>
    withTempDir(async (dir) => {
      const wal = await Wal.create(dir, metadata, options());
      await wal.save(undefined, entries(1n, 5));
      await wal.close();
      const missing: SnapshotMetadata = { index: 3n, term: 1n, confState: { voters: [1n], learners: [] } };
      await assert.rejects(Wal.open(dir, missing, options()), /no snapshot marker for index 3/);
    }));

  test('create refuses a directory that already holds a WAL', () =>
    withTempDir(async (dir) => {
      const wal = await Wal.create(dir, metadata, options());
      await wal.close();
      await assert.rejects(Wal.create(dir, metadata, options()), /already exists/);
    }));
});

describe('WAL group commit', () => {
  test('200 concurrent saves share a few fdatasyncs and land on disk in call order', () =>
    withTempDir(async (dir) => {
      const wal = await Wal.create(dir, metadata, { segmentBytes: 64 * 1024 * 1024, logger: silentLogger() });
      const syncsBefore = wal.syncCount;
      const saves = entries(1n, 200).map((entry) => wal.save({ term: 1n, vote: 1n, commit: entry.index }, [entry]));
      await Promise.all(saves);
      const syncs = wal.syncCount - syncsBefore;
      assert.ok(syncs <= 5, `200 saves took ${syncs} fdatasyncs`);
      await wal.close();
      const { wal: reopened, recovery } = await Wal.open(dir, undefined, options());
      assert.deepEqual(recovery.entries.map((e) => e.index), range(1n, 200n));
      assert.equal(recovery.hardState.commit, 200n);
      await reopened.close();
    }));

  test('a save called after close is rejected', () =>
    withTempDir(async (dir) => {
      const wal = await Wal.create(dir, metadata, options());
      await wal.close();
      await assert.rejects(wal.save(undefined, entries(1n, 1)), /closed/);
    }));
});

function range(first: bigint, last: bigint): bigint[] {
  const out: bigint[] = [];
  for (let index = first; index <= last; index++) out.push(index);
  return out;
}

function normalize(entry: { term: bigint; index: bigint; type: number; data: Uint8Array }) {
  return { ...entry, data: Buffer.from(entry.data).toString('hex') };
}
