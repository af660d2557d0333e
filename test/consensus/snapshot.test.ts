import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryStorage, MessageType, RawNode } from '../../src/consensus';
import { Network, seededRandom } from './harness';

describe('snapshots', () => {
  test('a follower behind the leader’s first index catches up from a snapshot', () => {
    const net = new Network([1n, 2n, 3n]);
    net.campaign(1n);
    net.isolate(3n);
    for (let i = 0; i < 10; i++) net.propose(1n, `e${i}`);
    net.get(1n).compact();
    assert.ok(net.get(1n).storage.firstIndex() > net.get(3n).storage.lastIndex() + 1n);
    net.heal();
    let snaps = 0;
    const deliver = net.deliver.bind(net);
    net.deliver = (m) => {
      if (m.type === MessageType.Snap) {
        snaps++;
        deliver(m);
        net.get(m.from).node.reportSnapshot(m.to, true);
        return;
      }
      deliver(m);
    };
    net.tickAll(5);
    assert.equal(snaps, 1);
    assert.equal(net.get(3n).restoredFrom, net.get(1n).storage.snapshot().metadata.index);
    net.propose(1n, 'after');
    assert.deepEqual(net.get(3n).appliedData(), [...Array.from({ length: 10 }, (_, i) => `e${i}`), 'after']);
    const pr = net.get(1n).node.status().progress!.get(3n)!;
    assert.equal(pr.state, 'replicate');
    assert.equal(pr.match, net.get(1n).storage.lastIndex());
  });

  test('a failed snapshot is retried after the follower answers a heartbeat', () => {
    const net = new Network([1n, 2n, 3n]);
    net.campaign(1n);
    net.isolate(3n);
    for (let i = 0; i < 5; i++) net.propose(1n, `e${i}`);
    net.get(1n).compact();
    net.heal();
    let attempts = 0;
    const deliver = net.deliver.bind(net);
    net.deliver = (m) => {
      if (m.type === MessageType.Snap) {
        attempts++;
        if (attempts === 1) {
          net.get(m.from).node.reportSnapshot(m.to, false); // lost in transit
          return;
        }
        deliver(m);
        net.get(m.from).node.reportSnapshot(m.to, true);
        return;
      }
      deliver(m);
    };
    net.tickAll(10);
    assert.equal(attempts, 2);
    assert.deepEqual(net.get(3n).appliedData(), ['e0', 'e1', 'e2', 'e3', 'e4']);
  });

  test('a node restarts from a snapshot plus the entries after it', () => {
    const net = new Network([1n]);
    net.campaign(1n);
    for (let i = 0; i < 4; i++) net.propose(1n, `e${i}`);
    const n = net.get(1n);
    n.compact();
    net.propose(1n, 'tail');
    const storage = new MemoryStorage();
    storage.applySnapshot(n.storage.snapshot());
    storage.setHardState(n.storage.initialState().hardState);
    storage.append(n.storage.entries(n.storage.firstIndex(), n.storage.lastIndex() + 1n, Number.MAX_SAFE_INTEGER));
    const applied = n.storage.snapshot().metadata.index;
    const node = new RawNode({
      id: 1n, electionTicks: 10, heartbeatTicks: 1, storage, applied, random: seededRandom(3),
      preVote: true, checkQuorum: true, maxInflightMessages: 16, maxEntriesBytesPerMessage: 1 << 20,
    });
    const rd = node.ready();
    assert.deepEqual(rd.committedEntries.map((e) => new TextDecoder().decode(e.data)), ['tail']);
    node.advance(rd);
    node.campaign();
    assert.equal(node.status().state, 'leader');
  });

  test('MemoryStorage compaction and snapshots keep indexes consistent', () => {
    const s = new MemoryStorage();
    const e = (index: bigint, term: bigint) => ({ index, term, type: 0 as const, data: new Uint8Array(0) });
    s.append([e(1n, 1n), e(2n, 1n), e(3n, 2n), e(4n, 2n)]);
    assert.equal(s.firstIndex(), 1n);
    assert.equal(s.lastIndex(), 4n);
    s.append([e(3n, 3n)]); // conflicting suffix is truncated
    assert.equal(s.lastIndex(), 3n);
    assert.equal(s.term(3n), 3n);
    s.createSnapshot(2n, { voters: [1n], learners: [] }, new Uint8Array(0));
    s.compact(2n);
    assert.equal(s.firstIndex(), 3n);
    assert.equal(s.term(2n), 1n);
    assert.throws(() => s.term(1n), /compaction/);
    assert.throws(() => s.entries(2n, 4n, 100), /compaction/);
  });
});
