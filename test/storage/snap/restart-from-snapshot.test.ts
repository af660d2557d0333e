import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import type { SnapshotMetadata } from '../../../src/consensus/types';
import { silentLogger } from '../../../src/log';
import { Snapshotter } from '../../../src/storage/snap';
import { Wal } from '../../../src/storage/wal';
import { entries } from '../wal/wal-test-support';

const SNAPSHOT_COUNT = 20n;
const options = { segmentBytes: 600, logger: silentLogger() };
const confState = { voters: [1n, 2n, 3n], learners: [] };

async function withDataDir(run: (walDir: string, snapDir: string) => Promise<void>): Promise<void> {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'latchkey-restart-'));
  try {
    await run(path.join(root, 'member', 'wal'), path.join(root, 'member', 'snap'));
  } finally {
    await fs.rm(root, { recursive: true, force: true });
  }
}

/** What the member loop does at startup: the newest snap file the WAL has a marker for, then replay from it. */
async function restart(walDir: string, snapshotter: Snapshotter) {
  const markers = await Wal.snapshotMarkers(walDir);
  const hasMarker = (m: SnapshotMetadata) => markers.some((marker) => marker.index === m.index && marker.term === m.term);
  const snapshot = await snapshotter.loadNewest(hasMarker);
  return { snapshot, ...(await Wal.open(walDir, snapshot?.metadata, options)) };
}

/** The member loop's snapshot step, in the crash-safe order: marker, snap file, release, purge. */
async function takeSnapshot(wal: Wal, snapshotter: Snapshotter, metadata: SnapshotMetadata): Promise<void> {
  await wal.saveSnapshotMarker(metadata);
  await snapshotter.save(metadata, Buffer.from(`members at ${metadata.index}`));
  await wal.releaseBefore(metadata.index);
  await snapshotter.purge(5);
}

describe('restart from snapshot + WAL', () => {
  test('a snapshot every N applied entries bounds the WAL, and restart replays only what follows the newest', () =>
    withDataDir(async (walDir, snapDir) => {
      const snapshotter = new Snapshotter(snapDir, silentLogger());
      const wal = await Wal.create(walDir, Buffer.from('member 1'), options);
      let lastSnapshotIndex = 0n;
      for (let index = 1n; index <= 130n; index++) {
        await wal.save({ term: 1n, vote: 1n, commit: index }, entries(index, 1));
        if (index - lastSnapshotIndex >= SNAPSHOT_COUNT) {
          await takeSnapshot(wal, snapshotter, { index, term: 1n, confState });
          lastSnapshotIndex = index;
        }
      }
      const segmentsLeft = wal.segmentFiles().length;
      await wal.close();
      assert.ok(segmentsLeft <= 6, `${segmentsLeft} segments left`);
      assert.equal(snapshotter.list().length, 5);

      const { snapshot, wal: reopened, recovery } = await restart(walDir, snapshotter);
      assert.equal(snapshot?.metadata.index, 120n);
      assert.deepEqual(recovery.entries.map((e) => e.index), [121n, 122n, 123n, 124n, 125n, 126n, 127n, 128n, 129n, 130n]);
      assert.equal(recovery.hardState.commit, 130n);
      await reopened.close();
    }));

  test('a crash after the marker but before the snap file restarts from the previous snapshot', () =>
    withDataDir(async (walDir, snapDir) => {
      const snapshotter = new Snapshotter(snapDir, silentLogger());
      const wal = await Wal.create(walDir, Buffer.from('member 1'), options);
      await wal.save({ term: 1n, vote: 1n, commit: 40n }, entries(1n, 40));
      await takeSnapshot(wal, snapshotter, { index: 20n, term: 1n, confState });
      await wal.saveSnapshotMarker({ index: 40n, term: 1n, confState }); // then the process died
      await wal.close();

      const { snapshot, wal: reopened, recovery } = await restart(walDir, snapshotter);
      assert.equal(snapshot?.metadata.index, 20n);
      assert.equal(recovery.entries[0].index, 21n);
      assert.equal(recovery.entries.length, 20);
      await reopened.close();
    }));

  test('a snap file whose marker never reached the WAL is passed over', () =>
    withDataDir(async (walDir, snapDir) => {
      const snapshotter = new Snapshotter(snapDir, silentLogger());
      const wal = await Wal.create(walDir, Buffer.from('member 1'), options);
      await wal.save({ term: 1n, vote: 1n, commit: 40n }, entries(1n, 40));
      await takeSnapshot(wal, snapshotter, { index: 20n, term: 1n, confState });
      await snapshotter.save({ index: 40n, term: 1n, confState }, Buffer.from('no marker')); // written out of order
      await wal.close();

      const { snapshot, wal: reopened, recovery } = await restart(walDir, snapshotter);
      assert.equal(snapshot?.metadata.index, 20n);
      assert.equal(recovery.entries.length, 20);
      await reopened.close();
    }));
});
