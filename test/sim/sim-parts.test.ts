/** The simulator's own building blocks: a crash loses only unsynced writes, replay skips. */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { EntryType, type Entry } from '../../src/consensus';
import { DurableDisk } from './durable-disk';
import { encodeCommand, KvStateMachine } from './kv-state-machine';
import { Network } from './network';
import { Rng } from './rng';

const put = (index: bigint, term: bigint, key: string, value: string): Entry => ({
  index,
  term,
  type: EntryType.Normal,
  data: encodeCommand({ op: 'put', key, value }),
});

describe('simulator building blocks', () => {
  test('the PRNG replays from its seed', () => {
    const a = new Rng(42);
    const b = new Rng(42);
    const xs = Array.from({ length: 5 }, () => a.next());
    assert.deepEqual(Array.from({ length: 5 }, () => b.next()), xs);
    assert.ok(xs.every((x) => x >= 0 && x < 1));
  });

  test('a crash keeps every synced WAL record and at most the unsynced tail', () => {
    for (let seed = 1; seed <= 20; seed++) {
      const disk = new DurableDisk();
      disk.append({ kind: 'state', hardState: { term: 1n, vote: 0n, commit: 0n }, entries: [put(1n, 1n, 'a', '1')] });
      disk.fsync();
      disk.append({ kind: 'state', hardState: { term: 2n, vote: 1n, commit: 1n }, entries: [put(2n, 2n, 'a', '2')] });
      disk.crash(new Rng(seed));
      const log = disk.recover();
      assert.ok(log.entries.length === 1 || log.entries.length === 2);
      assert.equal(log.entries[0]!.index, 1n);
      assert.equal(log.hardState.term, log.entries.length === 1 ? 1n : 2n);
    }
  });

  test('a later write truncates the conflicting suffix on replay', () => {
    const disk = new DurableDisk();
    disk.append({ kind: 'state', hardState: undefined, entries: [put(1n, 1n, 'a', '1'), put(2n, 1n, 'b', '1'), put(3n, 1n, 'c', '1')] });
    disk.append({ kind: 'state', hardState: { term: 2n, vote: 0n, commit: 1n }, entries: [put(2n, 2n, 'b', '2')] });
    disk.fsync();
    assert.deepEqual(disk.recover().entries.map((e) => `${e.index}@${e.term}`), ['1@1', '2@2']);
  });

  test('a snapshot record above the last saved commit is not trusted', () => {
    const disk = new DurableDisk();
    disk.append({ kind: 'state', hardState: { term: 1n, vote: 0n, commit: 1n }, entries: [put(1n, 1n, 'a', '1')] });
    const snapshot = { metadata: { index: 5n, term: 1n, confState: { voters: [1n], learners: [] } }, data: new Uint8Array(0) };
    disk.append({ kind: 'snapshot', snapshot, resetLog: true });
    disk.fsync(); // the hard state with commit 5 written after it was torn off
    const log = disk.recover();
    assert.equal(log.snapshot, undefined);
    assert.deepEqual(log.entries.map((e) => e.index), [1n]);
  });

  test('the state machine skips entries it holds (consistent index) and rejects gaps', () => {
    const sm = new KvStateMachine();
    assert.equal(sm.apply(put(1n, 1n, 'a', '1')), true);
    const digest = sm.digest;
    assert.equal(sm.apply(put(1n, 1n, 'a', '1')), false);
    assert.equal(sm.digest, digest);
    assert.throws(() => sm.apply(put(3n, 1n, 'c', '1')), /gap/);
    const copy = KvStateMachine.decode(sm.encode());
    assert.equal(copy.digest, digest);
    assert.equal(copy.kv.get('a'), '1');
  });

  test('the network cuts links one way or both ways and heals', () => {
    const net = new Network();
    net.cut(1n, 2n);
    assert.equal(net.isCut(1n, 2n), true);
    assert.equal(net.isCut(2n, 1n), false);
    net.partition([[1n], [2n, 3n]]);
    assert.equal(net.isCut(3n, 1n), true);
    assert.equal(net.isCut(2n, 3n), false);
    net.heal();
    assert.equal(net.hasCuts(), false);
  });
});
