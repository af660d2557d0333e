import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { KvService } from '../../src/server/kv-service';
import type { Wal } from '../../src/storage/wal';
import { ctx, putOf, rangeOf } from './member-harness';
import { startLoopbackCluster, type LoopbackCluster } from './loopback-cluster';

/**
 * A put through a follower is answered by that follower once it applies the entry. The
 * follower already holds the entry durably when it learns the commit, so the answer must not
 * wait for the WAL save that records the new commit index (etcd applies beside that save).
 * Here the follower's save that commits the put is held open until the test releases it:
 * the put must be answered while it is still held.
 */

/** Holds a member's saves that move the commit index past `above` without new entries. */
class CommitSaveGate {
  above: bigint | undefined;
  private release: Array<() => void> = [];
  private onHeld: (() => void) | undefined;

  /** Wraps a WAL save: saves the gate matches resolve only after `open()`. */
  wrap(save: Wal['save']): Wal['save'] {
    return (hardState, entries, sync) => {
      const done = save(hardState, entries, sync);
      const above = this.above;
      if (above === undefined || entries.length > 0 || hardState === undefined || hardState.commit <= above) return done;
      this.onHeld?.();
      return new Promise<void>((resolve, reject) => this.release.push(() => done.then(resolve, reject)));
    };
  }

  /** Resolves when the next matching save is held. */
  held(): Promise<'held'> {
    return new Promise((resolve) => {
      this.onHeld = () => resolve('held');
    });
  }

  get holding(): boolean {
    return this.release.length > 0;
  }

  open(): void {
    this.above = undefined;
    this.onHeld = undefined;
    for (const release of this.release.splice(0)) release();
  }
}

/** Rejects if `promise` has not settled within `ms`: a bound on a wait that must end. */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const bound = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(what)), ms);
  });
  return Promise.race([promise, bound]).finally(() => clearTimeout(timer));
}

describe('a follower answers a put it holds durably without waiting for the save of its commit', () => {
  let cluster: LoopbackCluster;
  const gates = new Map<string, CommitSaveGate>();

  before(async () => {
    cluster = await startLoopbackCluster(3, (name, opened) => {
      const gate = new CommitSaveGate();
      gates.set(name, gate);
      opened.wal.save = gate.wrap(opened.wal.save.bind(opened.wal));
    });
    // A put through every member: a leader is elected and each member has applied its own.
    for (const running of cluster.members) await new KvService(running.member).put(putOf(`warm/${running.name}`, 'v'), ctx);
  });

  after(async () => {
    for (const gate of gates.values()) gate.open();
    await cluster.stop();
  });

  test('the put is answered while the follower save that records its commit is still held', async () => {
    const follower = cluster.members.find((running) => !running.member.isLeader());
    assert.ok(follower !== undefined, 'no follower');
    const gate = gates.get(follower.name)!;
    const kv = new KvService(follower.member);
    // The commit index may reach the follower together with the entry itself (then nothing
    // is held and the answer never depended on a later save): try again, a bounded number of times.
    let answeredWhileHeld = false;
    let attempts = 0;
    for (; attempts < 5 && !answeredWhileHeld; attempts++) {
      gate.above = follower.member.raftStatus().commit;
      const put = kv.put(putOf(`k${attempts}`, `v${attempts}`), ctx);
      const first = await within(Promise.race([put.then(() => 'answered' as const), gate.held()]), 10_000, 'the put was neither answered nor committed');
      if (first === 'held') {
        await within(put, 10_000, 'the put waited for the held save of its commit index');
        answeredWhileHeld = gate.holding;
      }
      gate.open();
      await put;
    }
    assert.ok(answeredWhileHeld, `no put was answered while its commit's save was held (${attempts} attempts)`);
    // Released, the member goes on: the last put is on the leader, and a new one goes through.
    const leader = cluster.members.find((running) => running.member.isLeader())!;
    const seen = await new KvService(leader.member).range(rangeOf(`k${attempts - 1}`), ctx);
    assert.equal(seen.result.kvs[0]?.value.toString(), `v${attempts - 1}`);
    await kv.put(putOf('after', 'released'), ctx);
  });
});
