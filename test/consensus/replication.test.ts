import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { MessageType, newMessage } from '../../src/consensus';
import { bytes, Network } from './harness';

describe('log replication', () => {
  test('proposals on the leader are applied on every member in order', () => {
    const net = new Network([1n, 2n, 3n]);
    net.campaign(1n);
    for (const s of ['a', 'b', 'c']) net.propose(1n, s);
    for (const id of [1n, 2n, 3n]) assert.deepEqual(net.get(id).appliedData(), ['a', 'b', 'c']);
  });

  test('a follower forwards proposals to the leader', () => {
    const net = new Network([1n, 2n, 3n]);
    net.campaign(1n);
    net.propose(2n, 'from-follower');
    for (const id of [1n, 2n, 3n]) assert.deepEqual(net.get(id).appliedData(), ['from-follower']);
  });

  test('the commit broadcast to caught-up followers is commit-only and not answered; followers still apply', () => {
    const net = new Network([1n, 2n, 3n]);
    net.campaign(1n);
    net.stabilize();
    net.get(1n).node.propose(bytes('x'));
    const sent = net.stabilize().map((m) => ({ from: m.from, to: m.to, type: m.type, entries: m.entries.length, commitOnly: m.commitOnly === true }));
    const trace = JSON.stringify(sent, (_k, v) => (typeof v === 'bigint' ? Number(v) : v));
    // Both acks reach the leader before its next Ready: one broadcast carries the new commit
    // index to each follower, and as both are known to hold the entry, neither copy is answered.
    const commitOnly = sent.filter((m) => m.commitOnly);
    assert.deepEqual(commitOnly.map((m) => [m.to, m.type, m.entries]), [[2n, MessageType.App, 0], [3n, MessageType.App, 0]], trace);
    const asked = sent.filter((m) => m.type === MessageType.App && !m.commitOnly);
    const answers = sent.filter((m) => m.type === MessageType.AppResp);
    assert.equal(answers.length, asked.length, `every append but the commit-only ones is answered: ${trace}`);
    for (const id of [1n, 2n, 3n]) assert.deepEqual(net.get(id).appliedData(), ['x'], `node ${id} applied the entry`);
  });

  test('proposals made between two Readies leave as one append per follower, answered once each', () => {
    const net = new Network([1n, 2n, 3n]);
    net.campaign(1n);
    net.stabilize();
    for (const s of ['a', 'b', 'c']) net.get(1n).node.propose(bytes(s));
    net.get(2n).node.propose(bytes('d')); // forwarded by node 2: it reaches the leader one delivery round later, alone
    const sent = net.stabilize();
    const trace = JSON.stringify(sent.map((m) => ({ from: m.from, to: m.to, type: m.type, entries: m.entries.length })), (_k, v) => (typeof v === 'bigint' ? Number(v) : v));
    const appendsWithEntries = sent.filter((m) => m.type === MessageType.App && m.from === 1n && m.entries.length > 0);
    // a, b, c in one append per follower; d (forwarded) in one more per follower.
    assert.deepEqual(appendsWithEntries.map((m) => [m.to, m.entries.length]), [[2n, 3], [3n, 3], [2n, 1], [3n, 1]], trace);
    assert.equal(sent.filter((m) => m.type === MessageType.AppResp).length, appendsWithEntries.length, trace);
    for (const id of [1n, 2n, 3n]) assert.deepEqual(net.get(id).appliedData(), ['a', 'b', 'c', 'd']);
  });

  test('an append to a follower the leader has not seen catch up is not commit-only, so it is answered', () => {
    const net = new Network([1n, 2n, 3n]);
    net.campaign(1n);
    net.isolate(3n);
    net.propose(1n, 'while-3-was-away');
    net.heal();
    net.tickAll(3);
    for (const id of [1n, 2n, 3n]) assert.deepEqual(net.get(id).appliedData(), ['while-3-was-away']);
    assert.equal(net.get(1n).node.status().progress?.get(3n)?.match, net.get(1n).node.status().commit);
  });

  test('an entry commits only once a majority stores it', () => {
    const net = new Network([1n, 2n, 3n, 4n, 5n]);
    net.campaign(1n);
    const before = net.get(1n).node.status().commit;
    net.isolate(3n);
    net.isolate(4n);
    net.isolate(5n);
    net.propose(1n, 'minority');
    assert.equal(net.get(1n).node.status().commit, before, 'leader + 1 of 5 is not a majority');
    net.heal();
    net.tickAll(3);
    assert.ok(net.get(1n).node.status().commit > before);
    for (const id of [1n, 2n, 3n, 4n, 5n]) assert.deepEqual(net.get(id).appliedData(), ['minority']);
  });

  test('a partitioned old leader’s uncommitted entries are overwritten (log matching)', () => {
    const net = new Network([1n, 2n, 3n]);
    net.campaign(1n);
    net.propose(1n, 'committed');
    net.isolate(1n);
    for (let i = 0; i < 5; i++) net.propose(1n, `lost-${i}`);
    net.campaign(2n);
    net.propose(2n, 'new');
    net.heal();
    net.tickAll(3);
    for (const id of [1n, 2n, 3n]) assert.deepEqual(net.get(id).appliedData(), ['committed', 'new']);
    const last = net.get(2n).storage.lastIndex();
    for (const id of [1n, 3n]) {
      const s = net.get(id).storage;
      assert.equal(s.lastIndex(), last);
      for (let i = s.firstIndex(); i <= last; i++) assert.equal(s.term(i), net.get(2n).storage.term(i), `term at ${i}`);
    }
  });

  test('fast backtracking repairs a long divergent follower log in few round trips', () => {
    const net = new Network([1n, 2n, 3n]);
    net.campaign(1n);
    net.isolate(1n);
    for (let i = 0; i < 50; i++) net.get(1n).node.propose(bytes(`stale-${i}`));
    net.stabilize();
    net.campaign(2n);
    for (let i = 0; i < 50; i++) net.get(2n).node.propose(bytes(`good-${i}`));
    net.stabilize();
    net.heal();
    let rejects = 0;
    const realDeliver = net.deliver.bind(net);
    net.deliver = (m) => {
      if (m.type === MessageType.AppResp && m.reject) rejects++;
      realDeliver(m);
    };
    net.tickAll(3);
    assert.ok(rejects <= 3, `expected few rejections, got ${rejects}`);
    assert.equal(net.get(1n).appliedData().length, 50);
    assert.deepEqual(net.get(1n).appliedData(), net.get(2n).appliedData());
  });

  test('a leader does not commit an earlier-term entry by counting replicas (§5.4.2)', () => {
    const net = new Network([1n, 2n, 3n, 4n, 5n]);
    net.campaign(1n); // term 2, empty entry at index 2 committed everywhere
    net.partition([1n, 2n], [3n, 4n, 5n]);
    net.propose(1n, 'old-term'); // index 3, term 2, only on 1 and 2: not committed
    net.heal();
    net.isolate(1n);
    net.ignore(MessageType.App);
    net.campaign(2n); // term 3, empty entry at index 4; appends are dropped
    const leader = net.get(2n);
    assert.equal(leader.node.status().state, 'leader');
    assert.equal(leader.node.status().term, 3n);
    assert.equal(leader.node.status().commit, 2n);
    const ack = (from: bigint, index: bigint) =>
      leader.node.step(newMessage({ type: MessageType.AppResp, from, to: 2n, term: 3n, index }));
    ack(3n, 3n);
    ack(4n, 3n); // a majority (2, 3, 4) now stores index 3, but it is from term 2
    assert.equal(leader.node.status().commit, 2n);
    ack(3n, 4n);
    ack(4n, 4n); // the term-3 entry commits, and index 3 with it
    assert.equal(leader.node.status().commit, 4n);
  });

  test('flow control: a replicating follower never has more than maxInflightMessages appends outstanding', () => {
    const net = new Network([1n, 2n], { maxInflightMessages: 4, maxEntriesBytesPerMessage: 1 });
    net.campaign(1n);
    net.ignore(MessageType.AppResp);
    const leader = net.get(1n);
    for (let i = 0; i < 20; i++) leader.node.propose(bytes(`p${i}`));
    const sent = leader.handleReady().filter((m) => m.type === MessageType.App && m.entries.length > 0);
    assert.equal(sent.length, 4);
    net.heal();
    net.tickAll(30);
    assert.equal(net.get(2n).appliedData().length, 20);
  });

  test('the leader reports per-follower progress and state', () => {
    const net = new Network([1n, 2n, 3n]);
    net.campaign(1n);
    net.propose(1n, 'a');
    const progress = net.get(1n).node.status().progress!;
    const last = net.get(1n).storage.lastIndex();
    for (const id of [2n, 3n]) {
      assert.equal(progress.get(id)!.match, last);
      assert.equal(progress.get(id)!.state, 'replicate');
    }
  });
});
