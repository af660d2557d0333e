import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import type { SnapshotMetadata } from '../../../src/consensus/types';
import { silentLogger } from '../../../src/log';
import { Snapshotter } from '../../../src/storage/snap';

async function withSnapDir(run: (dir: string) => Promise<void>): Promise<void> {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'latchkey-snap-'));
  try {
    await run(path.join(root, 'snap'));
  } finally {
    await fs.rm(root, { recursive: true, force: true });
  }
}

function metadataAt(index: bigint, term = 2n): SnapshotMetadata {
  return { index, term, confState: { voters: [1n, 2n, 3n], learners: [0xffff_ffff_ffff_ffffn] } };
}

describe('Snapshotter', () => {
  test('an empty directory has no snapshot', () =>
    withSnapDir(async (dir) => {
      const snapshotter = new Snapshotter(dir, silentLogger());
      assert.equal(await snapshotter.loadNewest(), undefined);
      assert.deepEqual(snapshotter.list(), []);
    }));

  test('loadNewest returns the newest saved snapshot with its metadata and payload', () =>
    withSnapDir(async (dir) => {
      const snapshotter = new Snapshotter(dir, silentLogger());
      await snapshotter.save(metadataAt(10_000n), Buffer.from('members v1'));
      await snapshotter.save(metadataAt(20_000n), Buffer.from('members v2'));
      await snapshotter.save(metadataAt(15_000n, 1n), Buffer.from('older term'));
      const newest = await snapshotter.loadNewest();
      assert.ok(newest);
      assert.deepEqual(newest.metadata, metadataAt(20_000n));
      assert.equal(Buffer.from(newest.payload).toString(), 'members v2');
      assert.deepEqual(snapshotter.list(), ['0000000000000002-0000000000004e20.snap', '0000000000000002-0000000000002710.snap', '0000000000000001-0000000000003a98.snap']);
      assert.deepEqual((await fs.readdir(dir)).filter((name) => name.endsWith('.tmp')), []);
    }));

  test('a damaged newest snapshot is renamed to .broken and the previous one is loaded', () =>
    withSnapDir(async (dir) => {
      const snapshotter = new Snapshotter(dir, silentLogger());
      await snapshotter.save(metadataAt(100n), Buffer.from('good'));
      await snapshotter.save(metadataAt(200n), Buffer.from('will be damaged'));
      const damagedPath = path.join(dir, snapshotter.list()[0]);
      const bytes = await fs.readFile(damagedPath);
      bytes[bytes.length - 3] ^= 0x10;
      await fs.writeFile(damagedPath, bytes);

      const loaded = await snapshotter.loadNewest();
      assert.ok(loaded);
      assert.equal(loaded.metadata.index, 100n);
      assert.equal(Buffer.from(loaded.payload).toString(), 'good');
      assert.deepEqual(await fs.readFile(`${damagedPath}.broken`), bytes);
      assert.deepEqual(snapshotter.list(), ['0000000000000002-0000000000000064.snap']);
    }));

  test('purge keeps only the newest files', () =>
    withSnapDir(async (dir) => {
      const snapshotter = new Snapshotter(dir, silentLogger());
      for (let i = 1n; i <= 7n; i++) await snapshotter.save(metadataAt(i * 100n), Buffer.from(`p${i}`));
      await snapshotter.purge(5);
      const kept = snapshotter.list();
      assert.equal(kept.length, 5);
      assert.equal(kept[0], '0000000000000002-00000000000002bc.snap');
      assert.equal(kept[4], '0000000000000002-000000000000012c.snap');
      assert.equal((await snapshotter.loadNewest())?.metadata.index, 700n);
    }));
});
