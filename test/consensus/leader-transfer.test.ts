import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { MessageType, ProposalDroppedError } from '../../src/consensus';
import { bytes, Network } from './harness';

describe('leader transfer', () => {
  test('transfer to an up-to-date follower makes it leader in the next term', () => {
    const net = new Network([1n, 2n, 3n], { checkQuorum: true, preVote: true });
    net.campaign(1n);
    net.propose(1n, 'a');
    const term = net.get(1n).node.status().term;
    net.get(1n).node.transferLeader(2n);
    net.stabilize();
    assert.equal(net.leader(), 2n);
    assert.equal(net.get(2n).node.status().term, term + 1n);
    assert.equal(net.get(1n).node.status().lead, 2n);
  });

  test('a lagging transferee is caught up first, then told to campaign', () => {
    const net = new Network([1n, 2n, 3n]);
    net.campaign(1n);
    net.isolate(3n);
    net.propose(1n, 'a');
    net.propose(1n, 'b');
    net.heal();
    net.get(1n).node.transferLeader(3n);
    net.stabilize();
    assert.equal(net.leader(), 3n);
    assert.deepEqual(net.get(3n).appliedData(), ['a', 'b']);
  });

  test('proposals are dropped while a transfer is in progress; the transfer aborts after an election timeout', () => {
    const net = new Network([1n, 2n, 3n]);
    net.campaign(1n);
    net.isolate(3n);
    net.get(1n).node.transferLeader(3n);
    assert.throws(() => net.get(1n).node.propose(bytes('x')), ProposalDroppedError);
    net.stabilize();
    assert.equal(net.get(1n).node.status().leadTransferee, 3n);
    net.tickAll(10);
    assert.equal(net.get(1n).node.status().leadTransferee, 0n);
    assert.equal(net.get(1n).node.status().state, 'leader');
    net.propose(1n, 'after');
    assert.deepEqual(net.get(2n).appliedData(), ['after']);
  });

  test('a follower forwards the transfer request to the leader', () => {
    const net = new Network([1n, 2n, 3n]);
    net.campaign(1n);
    net.get(2n).node.transferLeader(3n);
    net.stabilize();
    assert.equal(net.leader(), 3n);
  });

  test('TimeoutNow bypasses the followers’ leader lease', () => {
    const net = new Network([1n, 2n, 3n], { checkQuorum: true });
    net.campaign(1n);
    let timeoutNowSeen = false;
    const deliver = net.deliver.bind(net);
    net.deliver = (m) => {
      if (m.type === MessageType.TimeoutNow) timeoutNowSeen = true;
      deliver(m);
    };
    net.get(1n).node.transferLeader(2n);
    net.stabilize();
    assert.ok(timeoutNowSeen);
    assert.equal(net.leader(), 2n);
  });
});
