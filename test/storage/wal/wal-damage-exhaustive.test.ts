import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import { silentLogger } from '../../../src/log';
import { Wal, WalCorruptionError } from '../../../src/storage/wal';
import { entries, withTempDir } from './wal-test-support';

const metadata = Buffer.from('cluster=1;member=1');
const options = () => ({ segmentBytes: 64 * 1024 * 1024, logger: silentLogger() });

/** Saves 1..4, then 5..6 (the "middle" save), then 7..8; returns byte ranges of the last two saves. */
async function threeSaves(dir: string): Promise<{ segment: string; middle: [number, number]; last: [number, number] }> {
  const wal = await Wal.create(dir, metadata, options());
  const segment = wal.segmentFiles()[0];
  await wal.save({ term: 1n, vote: 2n, commit: 1n }, entries(1n, 4));
  const middleStart = (await fs.stat(segment)).size;
  await wal.save(undefined, entries(5n, 2));
  const lastStart = (await fs.stat(segment)).size;
  await wal.save(undefined, entries(7n, 2));
  await wal.close();
  return { segment, middle: [middleStart, lastStart], last: [lastStart, (await fs.stat(segment)).size] };
}

describe('WAL damage, every byte', () => {
  test('a crash at any byte of the final write loses only that write', () =>
    withTempDir(async (dir) => {
      const { segment, last } = await threeSaves(dir);
      const original = await fs.readFile(segment);
      for (let cut = last[0]; cut < last[1]; cut++) {
        await fs.writeFile(segment, original.subarray(0, cut));
        const { wal, recovery } = await Wal.open(dir, undefined, options());
        await wal.close();
        const indexes = recovery.entries.map((e) => e.index);
        // The final save was entries 7 and 8 as two records: a cut keeps whole records only.
        assert.ok(indexes.length >= 6 && indexes.length <= 7, `cut at ${cut}: ${indexes.length} entries`);
        assert.deepEqual(indexes, [1n, 2n, 3n, 4n, 5n, 6n, 7n].slice(0, indexes.length));
      }
    }));

  test('flipping any bit pattern in any byte of an earlier record is reported as corruption', () =>
    withTempDir(async (dir) => {
      const { segment, middle } = await threeSaves(dir);
      const original = await fs.readFile(segment);
      for (let at = middle[0]; at < middle[1]; at++) {
        const damaged = Buffer.from(original);
        damaged[at] ^= 1 << at % 8;
        await fs.writeFile(segment, damaged);
        await assert.rejects(Wal.open(dir, undefined, options()), WalCorruptionError, `flip at ${at}`);
        assert.deepEqual(await fs.readFile(segment), damaged, `file unchanged after flip at ${at}`);
      }
    }));
});

describe('WAL group commit across segment cuts', () => {
  test('concurrent saves and a snapshot marker, spanning many cuts, replay in call order', () =>
    withTempDir(async (dir) => {
      const wal = await Wal.create(dir, metadata, { segmentBytes: 300, logger: silentLogger() });
      const all = entries(1n, 150);
      const saves: Promise<void>[] = [];
      for (const entry of all) {
        saves.push(wal.save({ term: 1n, vote: 1n, commit: entry.index - 1n }, [entry]));
        if (entry.index === 100n) saves.push(wal.saveSnapshotMarker({ index: 90n, term: 1n, confState: { voters: [1n], learners: [] } }));
      }
      await Promise.all(saves);
      assert.ok(wal.segmentFiles().length > 10);
      await wal.close();
      const fromStart = await Wal.open(dir, undefined, options());
      assert.deepEqual(fromStart.recovery.entries.map((e) => e.index), all.map((e) => e.index));
      assert.equal(fromStart.recovery.hardState.commit, 149n);
      await fromStart.wal.close();
      const fromMarker = await Wal.open(dir, { index: 90n, term: 1n, confState: { voters: [1n], learners: [] } }, options());
      assert.equal(fromMarker.recovery.entries[0].index, 91n);
      assert.equal(fromMarker.recovery.entries.length, 60);
      await fromMarker.wal.close();
    }));
});
