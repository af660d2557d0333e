import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { MessageType } from '../../src/consensus';
import { Network } from './harness';

describe('leader election', () => {
  test('a campaigning node wins a three-member election and others follow it', () => {
    const net = new Network([1n, 2n, 3n]);
    net.campaign(1n);
    assert.equal(net.get(1n).node.status().state, 'leader');
    for (const id of [2n, 3n]) {
      const s = net.get(id).node.status();
      assert.equal(s.state, 'follower');
      assert.equal(s.lead, 1n);
      assert.equal(s.term, 2n);
    }
  });

  test('randomized timeouts elect exactly one leader without campaign()', () => {
    for (let seed = 1; seed <= 20; seed++) {
      const net = new Network([1n, 2n, 3n, 4n, 5n], {}, seed);
      const lead = net.electLeader();
      net.tickAll(5);
      const leaders = [...net.nodes.values()].filter((n) => n.node.status().state === 'leader');
      assert.equal(leaders.length, 1, `seed ${seed}`);
      assert.equal(leaders[0].id, lead, `seed ${seed}`);
    }
  });

  test('a candidate without a quorum cannot win', () => {
    const net = new Network([1n, 2n, 3n]);
    net.isolate(1n);
    net.campaign(1n);
    assert.equal(net.get(1n).node.status().state, 'candidate');
    assert.equal(net.leader(), undefined);
  });

  test('a node grants at most one vote per term', () => {
    const net = new Network([1n, 2n, 3n]);
    const grantsBy3: bigint[] = [];
    const deliver = net.deliver.bind(net);
    net.deliver = (m) => {
      if (m.type === MessageType.VoteResp && m.from === 3n && !m.reject) grantsBy3.push(m.to);
      deliver(m);
    };
    net.cutLink(1n, 2n);
    net.cutLink(2n, 1n);
    net.get(1n).node.campaign();
    net.get(2n).node.campaign();
    net.stabilize();
    assert.equal(grantsBy3.length, 1, 'both candidates asked 3 in term 2; it granted one');
    assert.equal(net.get(3n).node.status().vote, grantsBy3[0]);
    assert.equal(net.leader(), grantsBy3[0]);
  });

  test('a candidate with a stale log loses the election (leader completeness)', () => {
    const net = new Network([1n, 2n, 3n]);
    net.campaign(1n);
    net.isolate(3n);
    net.propose(1n, 'x');
    net.heal();
    // 3 missed 'x': its last log term equals the others' but its index is lower.
    net.isolate(1n);
    net.campaign(3n);
    assert.notEqual(net.get(3n).node.status().state, 'leader');
    net.campaign(2n);
    assert.equal(net.get(2n).node.status().state, 'leader');
    // The committed entry survives the leader change and reaches the stale node.
    net.tickAll(2);
    assert.deepEqual(net.get(2n).appliedData(), ['x']);
    assert.deepEqual(net.get(3n).appliedData(), ['x']);
  });

  test('a leader steps down on seeing a higher term', () => {
    const net = new Network([1n, 2n, 3n]);
    net.campaign(1n);
    net.isolate(1n);
    net.campaign(2n);
    assert.equal(net.get(2n).node.status().state, 'leader');
    net.heal();
    net.tickAll(2);
    assert.equal(net.get(1n).node.status().state, 'follower');
    assert.equal(net.get(1n).node.status().lead, 2n);
  });
});
