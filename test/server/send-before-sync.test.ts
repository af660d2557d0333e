import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { KvService } from '../../src/server/kv-service';
import { ctx } from './member-harness';
import { startLoopbackCluster, type LoopbackCluster } from './loopback-cluster';

/**
 * Node's HTTP/2 session writes frames to the socket from a native immediate, once the running
 * JavaScript returns. A member that sends and then runs its fdatasync or an LMDB commit in the
 * same turn holds its messages back for that long. This checks the member gives the event loop
 * a turn between handing messages to the transport and its next save or apply: the loopback
 * transport stands for HTTP/2 by marking each send as "on the wire" one immediate later.
 */

interface Violation {
  member: string;
  step: 'save' | 'apply';
}

describe('a member puts its messages on the wire before it syncs or applies', () => {
  let cluster: LoopbackCluster;
  const violations: Violation[] = [];
  const counts = { save: 0, apply: 0 };

  before(async () => {
    cluster = await startLoopbackCluster(3, (name, opened, transport) => {
      // Every save and apply checks that nothing this member sent is still held back.
      const save = opened.wal.save.bind(opened.wal);
      opened.wal.save = (...args: Parameters<typeof save>) => {
        counts.save++;
        if (transport.holdsBack()) violations.push({ member: name, step: 'save' });
        return save(...args);
      };
      const write = opened.store.write.bind(opened.store);
      opened.store.write = <T>(apply: Parameters<typeof write<T>>[0]): T => {
        counts.apply++;
        if (transport.holdsBack()) violations.push({ member: name, step: 'apply' });
        return write(apply);
      };
    });
  });

  after(async () => {
    await cluster.stop();
  });

  test('20 puts through each member: no save or apply while a send waits for its turn', async () => {
    for (const running of cluster.members) {
      const kv = new KvService(running.member);
      for (let i = 0; i < 20; i++) {
        await kv.put({ key: Buffer.from(`${running.name}/${i}`), value: Buffer.from('v'), lease: 0n, prevKv: false, ignoreValue: false, ignoreLease: false }, ctx);
      }
    }
    // Each put is saved by three WALs and applied by the members that learned its commit.
    assert.ok(counts.save >= 60, `only ${counts.save} WAL saves`);
    assert.ok(counts.apply >= 60, `only ${counts.apply} applies`);
    assert.deepEqual(violations, []);
  });
});
