import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { AlarmAction, AlarmType } from '../../src/api/member-port';
import { silentLogger } from '../../src/log';
import { ActiveAlarms } from '../../src/server/alarms';
import { defaultConfig } from '../../src/server/config';
import { DiskSpaceWatch } from '../../src/server/disk-space-watch';
import { NoSpaceGate } from '../../src/server/member-quota';
import type { Proposal } from '../../src/server/proposal';
import type { MvccStore } from '../../src/storage/mvcc';

const MIB = 1024n * 1024n;

describe('the free-space watch of the data directory', () => {
  test('logging an eighth of the margin looks at the free space at once, not at the next tick', async () => {
    let looks = 0;
    const watch = new DiskSpaceWatch(
      '/data',
      () => undefined,
      () => undefined,
      async () => {
        looks += 1;
        return 500n * MIB;
      },
      64n * MIB,
      3_600_000, // the timer never fires during the test
    );
    watch.start();
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(looks, 1, 'start looks once');
    watch.noteLogged(Number(4n * MIB));
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(looks, 1, 'half an eighth: no look yet');
    watch.noteLogged(Number(4n * MIB));
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(looks, 2, 'an eighth of the margin logged: one more look');
    watch.noteLogged(Number(7n * MIB));
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(looks, 2, 'the count starts again after each look');
    watch.stop();
    watch.noteLogged(Number(64n * MIB));
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(looks, 2, 'a stopped watch does not look');
  });

  test('reports every check below the margin, none above, and survives a failing statfs', async () => {
    let free = 500n * MIB;
    let failing = false;
    const low: bigint[] = [];
    const errors: unknown[] = [];
    const watch = new DiskSpaceWatch(
      '/data',
      (bytes) => low.push(bytes),
      (err) => errors.push(err),
      async () => {
        if (failing) throw new Error('statfs failed');
        return free;
      },
      64n * MIB,
    );
    await watch.check();
    assert.deepEqual(low, []);
    free = 10n * MIB;
    await watch.check();
    await watch.check();
    assert.deepEqual(low, [10n * MIB, 10n * MIB]);
    failing = true;
    await watch.check();
    assert.equal(errors.length, 1);
    failing = false;
    free = 65n * MIB;
    await watch.check();
    assert.equal(low.length, 2);
  });

  test('a low disk raises NOSPACE through Raft once, and not while the alarm is up', async () => {
    const alarms = new ActiveAlarms([]);
    const proposed: Proposal[] = [];
    let settle: () => void = () => undefined;
    const gate = new NoSpaceGate({
      store: {} as MvccStore,
      alarms,
      config: { quotaBackendBytes: defaultConfig().quotaBackendBytes },
      selfId: 7n,
      propose: (proposal) => {
        proposed.push(proposal);
        return new Promise<void>((resolve) => (settle = resolve));
      },
      logger: silentLogger(),
    });
    gate.diskAlmostFull(3n * MIB);
    gate.diskAlmostFull(2n * MIB); // the first proposal is still in flight
    assert.equal(proposed.length, 1);
    assert.deepEqual(proposed[0], { kind: 'alarm', action: AlarmAction.ACTIVATE, memberId: 7n, alarm: AlarmType.NOSPACE });
    alarms.activate(7n, AlarmType.NOSPACE);
    settle();
    await new Promise((resolve) => setImmediate(resolve));
    gate.diskAlmostFull(1n * MIB);
    assert.equal(proposed.length, 1, 'no second proposal while NOSPACE is active');
  });
});
