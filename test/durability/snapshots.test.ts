import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { EtcdClient } from '../support/etcd-client';
import { startLatchkey, stopAll } from '../support/processes';
import { readAll, snapDir, tempDataDir, walSegments } from './helpers';

const WRITES = 5_000;
const CONCURRENCY = 32;

describe('snapshots', () => {
  const dirs: string[] = [];
  after(async () => {
    await stopAll();
    for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
  });

  test('with --snapshot-count 1000 and 5,000 writes: snapshots exist, old segments are gone, restart recovers everything', { timeout: 120_000 }, async () => {
    const dataDir = tempDataDir('snap');
    dirs.push(dataDir);
    const args = ['--snapshot-count', '1000', '--snapshot-catchup-entries', '500', '--wal-segment-bytes', '65536'];
    const first = await startLatchkey({ dataDir, extraArgs: args });
    const client = new EtcdClient(first.endpoint);
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < WRITES) {
        const i = next++;
        await client.put({ key: Buffer.from(`s/${i}`), value: Buffer.from(`value-${i}`) });
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    const before = await client.range({ key: Buffer.from('s/'), range_end: Buffer.from('s0'), count_only: true });
    const revisionBefore = BigInt(before.header.revision);
    client.close();

    const snaps = fs.readdirSync(snapDir(dataDir)).filter((f) => f.endsWith('.snap'));
    assert.ok(snaps.length >= 1, 'at least one snapshot file');
    assert.ok(snaps.length <= 5, 'old snapshot files are purged');
    const segments = walSegments(dataDir);
    assert.ok(!segments.some((s) => s.startsWith('0000000000000000-')), `the first WAL segment was deleted: ${segments.join(', ')}`);
    assert.equal((await first.stop('SIGTERM')).code, 0);

    const second = await startLatchkey({ dataDir, extraArgs: args });
    const again = new EtcdClient(second.endpoint);
    const stored = await readAll(again, 's/');
    assert.equal(stored.size, WRITES);
    for (let i = 0; i < WRITES; i += 499) assert.equal(stored.get(`s/${i}`), `value-${i}`);
    const status = await again.status();
    assert.equal(BigInt(status.header.revision), revisionBefore, 'the revision survives the restart');
    again.close();
    await second.stop('SIGTERM');
  });

  test('a slow snapshot does not hold writes up; SIGTERM during it waits for it, and the restart recovers', { timeout: 120_000 }, async () => {
    const dataDir = tempDataDir('snap-slow');
    dirs.push(dataDir);
    const args = ['--snapshot-count', '100'];
    // The first snapshot (after 100 applied entries) stops for 5 s between its WAL marker and its file.
    const first = await startLatchkey({ dataDir, extraArgs: args, env: { LATCHKEY_FAILPOINTS: 'duringSnapshot=sleep(5000)@1' } });
    const client = new EtcdClient(first.endpoint);
    const snapFiles = (): string[] => fs.readdirSync(snapDir(dataDir)).filter((f) => f.endsWith('.snap'));
    try {
      for (let i = 0; i < 120; i += 1) await client.put({ key: Buffer.from(`slow/${i}`), value: Buffer.from(`v${i}`) });
      // The snapshot is under way (started at entry 100); 200 more writes are answered meanwhile.
      for (let i = 120; i < 320; i += 1) await client.put({ key: Buffer.from(`slow/${i}`), value: Buffer.from(`v${i}`) });
      assert.deepEqual(snapFiles(), [], 'the snapshot is still held at its failpoint while the writes were answered');
    } finally {
      client.close();
    }
    const exit = await first.stop('SIGTERM');
    assert.equal(exit.code, 0, 'stopping during a snapshot is a clean stop');
    assert.equal(snapFiles().length, 1, 'stop waited for the snapshot to be written');

    const second = await startLatchkey({ dataDir, extraArgs: args });
    const again = new EtcdClient(second.endpoint);
    try {
      const stored = await readAll(again, 'slow/');
      assert.equal(stored.size, 320);
      assert.equal(stored.get('slow/319'), 'v319');
    } finally {
      again.close();
      await second.stop('SIGTERM');
    }
  });
});
