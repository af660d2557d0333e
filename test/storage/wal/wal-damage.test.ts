import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import { silentLogger } from '../../../src/log';
import { Wal, WalCorruptionError } from '../../../src/storage/wal';
import { capturingLogger, entries, PINO_WARN, withTempDir } from './wal-test-support';

const metadata = Buffer.from('cluster=1;member=1');
const options = () => ({ segmentBytes: 64 * 1024 * 1024, logger: silentLogger() });

/** A WAL with entries 1..10 in one segment; returns its path and the size before entry 10's save. */
async function walWithTenEntries(dir: string): Promise<{ segment: string; sizeBeforeLastSave: number }> {
  const wal = await Wal.create(dir, metadata, options());
  await wal.save({ term: 1n, vote: 1n, commit: 0n }, entries(1n, 9));
  const segment = wal.segmentFiles()[0];
  const sizeBeforeLastSave = (await fs.stat(segment)).size;
  await wal.save(undefined, entries(10n, 1));
  await wal.close();
  return { segment, sizeBeforeLastSave };
}

describe('WAL torn tail', () => {
  test('a final record cut short is truncated away with a warning, and later appends work', () =>
    withTempDir(async (dir) => {
      const { segment, sizeBeforeLastSave } = await walWithTenEntries(dir);
      const fullSize = (await fs.stat(segment)).size;
      await fs.truncate(segment, fullSize - 5); // crash in the middle of writing entry 10

      const { logger, lines } = capturingLogger();
      const { wal, recovery } = await Wal.open(dir, undefined, { segmentBytes: 64 * 1024 * 1024, logger });
      assert.deepEqual(recovery.entries.map((e) => e.index), [1n, 2n, 3n, 4n, 5n, 6n, 7n, 8n, 9n]);
      assert.equal((await fs.stat(segment)).size, sizeBeforeLastSave);
      const warning = lines.find((line) => line.level === PINO_WARN);
      assert.ok(warning, 'a warning is logged');
      assert.equal(warning.file, segment);
      assert.equal(warning.offset, sizeBeforeLastSave);

      await wal.save(undefined, entries(10n, 3, 2n));
      await wal.close();
      const again = await Wal.open(dir, undefined, options());
      assert.deepEqual(again.recovery.entries.map((e) => [e.index, e.term]).slice(8), [[9n, 1n], [10n, 2n], [11n, 2n], [12n, 2n]]);
      await again.wal.close();
    }));

  test('zeros appended after the last record (a torn block write) are truncated away', () =>
    withTempDir(async (dir) => {
      const { segment } = await walWithTenEntries(dir);
      const goodSize = (await fs.stat(segment)).size;
      await fs.appendFile(segment, Buffer.alloc(4096));
      const { wal, recovery } = await Wal.open(dir, undefined, options());
      assert.equal(recovery.entries.length, 10);
      assert.equal((await fs.stat(segment)).size, goodSize);
      await wal.save(undefined, entries(11n, 1));
      await wal.close();
      const again = await Wal.open(dir, undefined, options());
      assert.equal(again.recovery.entries.length, 11);
      await again.wal.close();
    }));

  test('a crc mismatch in the final record with nothing valid after it is a torn write', () =>
    withTempDir(async (dir) => {
      const { segment } = await walWithTenEntries(dir);
      const bytes = await fs.readFile(segment);
      bytes[bytes.length - 2] ^= 0xff;
      await fs.writeFile(segment, bytes);
      const { wal, recovery } = await Wal.open(dir, undefined, options());
      assert.equal(recovery.entries.length, 9);
      await wal.close();
    }));
});

describe('WAL corruption', () => {
  test('a flipped byte in a record followed by valid records stops open, naming file and offset, changing nothing', () =>
    withTempDir(async (dir) => {
      const { segment, sizeBeforeLastSave } = await walWithTenEntries(dir);
      const damaged = await fs.readFile(segment);
      const flipAt = Math.floor(sizeBeforeLastSave / 2);
      damaged[flipAt] ^= 0x01;
      await fs.writeFile(segment, damaged);

      await assert.rejects(Wal.open(dir, undefined, options()), (error: unknown) => {
        assert.ok(error instanceof WalCorruptionError);
        assert.ok(error.message.includes(segment), error.message);
        assert.ok(error.offset <= flipAt && error.offset > flipAt - 100, `offset ${error.offset} near ${flipAt}`);
        assert.ok(error.message.includes(`offset ${error.offset}`), error.message);
        return true;
      });
      assert.deepEqual(await fs.readFile(segment), damaged);
    }));

  test('any damage in a segment that is not the last stops open, even at its end', () =>
    withTempDir(async (dir) => {
      const wal = await Wal.create(dir, metadata, { segmentBytes: 400, logger: silentLogger() });
      for (let i = 0; i < 8; i++) await wal.save(undefined, entries(BigInt(i * 5 + 1), 5));
      const segments = wal.segmentFiles();
      await wal.close();
      assert.ok(segments.length >= 3);
      const first = segments[0];
      const original = await fs.readFile(first);
      const damaged = Buffer.from(original);
      damaged[damaged.length - 1] ^= 0x80; // its final record: torn-looking, but a later segment exists
      await fs.writeFile(first, damaged);

      await assert.rejects(Wal.open(dir, undefined, options()), (error: unknown) => {
        assert.ok(error instanceof WalCorruptionError);
        assert.ok(error.message.includes(first));
        assert.match(error.message, /at byte offset \d+/);
        return true;
      });
      assert.deepEqual(await fs.readFile(first), damaged);
      for (const other of segments.slice(1)) assert.ok((await fs.stat(other)).size > 0);
    }));
});

describe('WAL releaseBefore', () => {
  test('deletes only segments whose entries are all before the index, keeping the marker segment and the live one', () =>
    withTempDir(async (dir) => {
      const wal = await Wal.create(dir, metadata, { segmentBytes: 400, logger: silentLogger() });
      for (let i = 0; i < 10; i++) await wal.save({ term: 1n, vote: 1n, commit: BigInt(i * 5) }, entries(BigInt(i * 5 + 1), 5));
      const snapshot = { index: 30n, term: 1n, confState: { voters: [1n], learners: [] } };
      await wal.saveSnapshotMarker(snapshot);
      const before = wal.segmentFiles();
      await wal.releaseBefore(30n);
      const after = wal.segmentFiles();
      assert.ok(after.length < before.length, `${before.length} → ${after.length}`);
      assert.deepEqual(after, before.slice(before.length - after.length));
      for (const deleted of before.slice(0, before.length - after.length)) {
        await assert.rejects(fs.stat(deleted), { code: 'ENOENT' });
        const nextFirstIndex = BigInt(`0x${before[before.indexOf(deleted) + 1].slice(-20, -4)}`);
        assert.ok(nextFirstIndex <= 30n, 'every entry in a deleted segment is below 30');
      }
      await wal.save(undefined, entries(51n, 3));
      await wal.close();

      const { wal: reopened, recovery } = await Wal.open(dir, snapshot, options());
      assert.deepEqual(recovery.snapshot, snapshot);
      assert.deepEqual(recovery.entries.map((e) => e.index)[0], 31n);
      assert.equal(recovery.entries.length, 23);
      assert.equal(recovery.hardState.commit, 45n);
      await reopened.close();

      // Without the snapshot the released entries are missing: refuse rather than replay a hole.
      await assert.rejects(Wal.open(dir, undefined, options()), /gap/);
    }));
});
