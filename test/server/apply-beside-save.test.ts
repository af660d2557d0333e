import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { KvService } from '../../src/server/kv-service';
import { ctx, putOf, rangeOf } from './member-harness';
import { startLoopbackCluster, type LoopbackCluster } from './loopback-cluster';
import { within } from '../support/within';
import { SaveGate } from './save-gate';

/**
 * A member applies committed entries beside the WAL save of its current Ready, not after it
 * (etcd applies beside its save too). Saves are held open here until the test releases them:
 * - a put through a follower is answered by that follower once it applies the entry, which
 *   it already holds durably when it learns the commit, so the answer must not wait for the
 *   save that records the new commit index;
 * - a follower whose loop was held learns an entry and its commit in one Ready: the entry is
 *   committed on a quorum, so the follower applies it without waiting for its own save.
 */

/** A save that records a new commit index and carries no entries, past `above`. */
function commitOnlyAbove(above: bigint): SaveGate['rule'] {
  return (hardState, entries) => entries.length === 0 && hardState !== undefined && hardState.commit > above;
}

/** A bigint that grows as the member works, and promises resolved once it reaches a value. */
function watchFor(read: () => bigint) {
  const waiting: Array<{ target: bigint; resolve: () => void }> = [];
  return {
    check(): void {
      const now = read();
      for (let i = waiting.length - 1; i >= 0; i--) {
        if (now >= waiting[i]!.target) waiting.splice(i, 1)[0]!.resolve();
      }
    },
    reaches(target: bigint): Promise<void> {
      if (read() >= target) return Promise.resolve();
      return new Promise((resolve) => waiting.push({ target, resolve }));
    },
  };
}

describe('a member applies committed entries beside its WAL save', () => {
  let cluster: LoopbackCluster;
  const gates = new Map<string, SaveGate>();

  before(async () => {
    cluster = await startLoopbackCluster(3, (name, opened) => {
      const gate = new SaveGate();
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
      gate.rule = commitOnlyAbove(follower.member.raftStatus().commit);
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

  test('a follower that learns a commit together with the entry applies it while the entry is still being saved', async () => {
    const follower = cluster.members.find((running) => !running.member.isLeader())!;
    const leader = cluster.members.find((running) => running.member.isLeader())!;
    const gate = gates.get(follower.name)!;
    const leaderKv = new KvService(leader.member);
    // Watches the follower: the commit index its Raft has heard of, and what it has applied.
    const heard = watchFor(() => follower.member.raftStatus().commit);
    const applied = watchFor(() => follower.store.consistentIndex());
    const receive = follower.member.receive.bind(follower.member);
    follower.member.receive = (message) => {
      receive(message);
      heard.check();
    };
    const write = follower.store.write.bind(follower.store);
    follower.store.write = <T>(apply: Parameters<typeof write<T>>[0]): T => {
      const result = write(apply);
      applied.check();
      return result;
    };
    // 1. The follower's next save of entries is held: its Ready loop waits on it.
    gate.rule = (_hardState, entries) => entries.length > 0;
    const firstHeld = gate.held();
    await within(leaderKv.put(putOf('w', '1'), ctx), 10_000, 'the leader and the other follower did not commit w');
    await within(firstHeld, 10_000, 'the follower never saved w');
    // 2. x is committed without the follower, which hears of x and of its commit meanwhile.
    await within(leaderKv.put(putOf('x', '2'), ctx), 10_000, 'the leader and the other follower did not commit x');
    const xIndex = leader.member.raftStatus().applied;
    await within(heard.reaches(xIndex), 10_000, 'the follower never heard that x is committed');
    // 3. w's save finishes; the next Ready holds x both as an entry to save and as committed.
    //    Its save is held: x must be applied anyway.
    gate.rule = (_hardState, entries) => entries.some((entry) => entry.index >= xIndex);
    const xHeld = gate.held();
    gate.releaseHeld();
    await within(xHeld, 10_000, 'the follower never saved x');
    await within(applied.reaches(xIndex), 10_000, 'the follower waited for its own save of x before applying it');
    assert.ok(gate.holding, 'the save of x was not held while x was applied');
    gate.open();
    const seen = await new KvService(follower.member).range(rangeOf('x', '', { serializable: true }), ctx);
    assert.equal(seen.result.kvs[0]?.value.toString(), '2');
  });
});
