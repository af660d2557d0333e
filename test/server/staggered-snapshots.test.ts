import * as fs from 'node:fs';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { KvService } from '../../src/server/kv-service';
import { ctx, putOf } from './member-harness';
import { startLoopbackCluster, type LoopbackCluster } from './loopback-cluster';
import { within } from '../support/within';

const SNAPSHOT_COUNT = 30;
/** A Ready may apply a few entries at once, so a snapshot can land a little past its point. */
const SLACK = 5;
const SNAP_FILE = /^[0-9a-f]{16}-([0-9a-f]{16})\.snap$/;

/** Snapshot indexes in `dir`, ascending. */
function snapshotIndexes(dir: string): bigint[] {
  return fs
    .readdirSync(dir)
    .map((name) => SNAP_FILE.exec(name)?.[1])
    .filter((hex): hex is string => hex !== undefined)
    .map((hex) => BigInt(`0x${hex}`))
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/** Resolves once `dir` holds a snapshot file (watched, not polled). */
function firstSnapshotIn(dir: string): Promise<void> {
  return new Promise((resolve) => {
    const watcher = fs.watch(dir, () => check());
    const check = (): void => {
      if (snapshotIndexes(dir).length === 0) return;
      watcher.close();
      resolve();
    };
    check();
  });
}

/**
 * Members of one cluster apply the same entries at about the same time. With --snapshot-count
 * alone they would all snapshot at the same index, and every snapshot syncs the database's
 * pages written since the last one: on a shared disk, three at once stalled every member's WAL.
 * The k-th of n voters (by id) takes its first snapshot k/n of the interval early.
 */
describe('members of a cluster take their snapshots at different indexes', () => {
  let cluster: LoopbackCluster;
  const snapDirs = new Map<string, string>();

  before(async () => {
    cluster = await startLoopbackCluster(3, (name, opened) => snapDirs.set(name, opened.snapDir), { snapshotCount: SNAPSHOT_COUNT });
  });

  after(async () => {
    await cluster.stop();
  });

  test('with --snapshot-count 30, the three first snapshots come near 30, 20 and 10', async () => {
    const leader = cluster.members.find((running) => running.member.isLeader()) ?? cluster.members[0]!;
    const kv = new KvService(leader.member);
    for (let i = 0; i < SNAPSHOT_COUNT + SLACK; i++) await kv.put(putOf(`k${i}`, 'v'), ctx);
    await within(Promise.all([...snapDirs.values()].map(firstSnapshotIn)), 10_000, 'a member took no snapshot');
    const byId = [...cluster.members].sort((a, b) => (a.member.id < b.member.id ? -1 : 1));
    const firsts = byId.map((running) => snapshotIndexes(snapDirs.get(running.name)!)[0]!);
    byId.forEach((running, position) => {
      const due = BigInt(SNAPSHOT_COUNT - (SNAPSHOT_COUNT * position) / 3);
      const first = firsts[position]!;
      assert.ok(first >= due && first < due + BigInt(SLACK), `${running.name} (voter ${position}) first snapshot at ${first}, due at ${due}`);
    });
  });
});
