import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { MessageType } from '../../src/consensus';
import { bytes, Network } from './harness';

describe('ReadIndex', () => {
  test('the leader answers after a quorum acknowledges a heartbeat carrying the context', () => {
    const net = new Network([1n, 2n, 3n]);
    net.campaign(1n);
    net.propose(1n, 'a');
    const leader = net.get(1n);
    leader.node.readIndex(bytes('req-1'));
    net.collect();
    assert.equal(leader.readStates.length, 0, 'no answer before the heartbeat round');
    net.stabilize();
    assert.deepEqual(leader.readStates, [{ index: leader.node.status().commit, context: 'req-1' }]);
  });

  test('a leader cut off from the quorum does not answer reads', () => {
    const net = new Network([1n, 2n, 3n]);
    net.campaign(1n);
    net.isolate(1n);
    net.get(1n).node.readIndex(bytes('stale'));
    net.stabilize();
    assert.equal(net.get(1n).readStates.length, 0);
  });

  test('a follower forwards the request to the leader and receives the read index', () => {
    const net = new Network([1n, 2n, 3n]);
    net.campaign(1n);
    net.propose(1n, 'a');
    net.get(3n).node.readIndex(bytes('from-3'));
    net.stabilize();
    assert.deepEqual(net.get(3n).readStates, [{ index: net.get(1n).node.status().commit, context: 'from-3' }]);
  });

  test('with 3 voters a follower’s request is itself the second ack: answered with no heartbeat round', () => {
    const net = new Network([1n, 2n, 3n]);
    net.campaign(1n);
    net.propose(1n, 'a');
    net.stabilize();
    net.get(3n).node.readIndex(bytes('from-3'));
    const sent = net.stabilize().map((m) => `${m.from}->${m.to} ${m.type}${m.context.length > 0 ? ' ctx' : ''}`);
    assert.deepEqual(sent, [`3->1 ${MessageType.ReadIndex} ctx`, `1->3 ${MessageType.ReadIndexResp} ctx`]);
    assert.deepEqual(net.get(3n).readStates, [{ index: net.get(1n).node.status().commit, context: 'from-3' }]);
  });

  test('with 3 voters a leader that still hears the requesting follower answers it, even cut off from the third', () => {
    const net = new Network([1n, 2n, 3n]);
    net.campaign(1n);
    net.propose(1n, 'a');
    net.stabilize();
    net.cutLink(1n, 2n);
    net.cutLink(2n, 1n);
    net.get(3n).node.readIndex(bytes('via-3'));
    net.stabilize();
    assert.deepEqual(net.get(3n).readStates.map((r) => r.context), ['via-3'], '{1, 3} is a majority: no newer leader can exist');
  });

  test('with 5 voters a follower’s request still waits for a heartbeat round', () => {
    const net = new Network([1n, 2n, 3n, 4n, 5n]);
    net.campaign(1n);
    net.propose(1n, 'a');
    net.stabilize();
    net.ignore(MessageType.HeartbeatResp);
    net.get(3n).node.readIndex(bytes('from-3'));
    net.stabilize();
    assert.equal(net.get(3n).readStates.length, 0, 'leader plus requester is 2 of 5');
    net.heal();
    net.tickAll(1);
    assert.deepEqual(net.get(3n).readStates.map((r) => r.context), ['from-3']);
  });

  test('several pending reads are all answered by one acknowledged round', () => {
    const net = new Network([1n, 2n, 3n]);
    net.campaign(1n);
    net.ignore(MessageType.HeartbeatResp);
    const leader = net.get(1n);
    for (const c of ['r1', 'r2', 'r3']) leader.node.readIndex(bytes(c));
    net.stabilize();
    assert.equal(leader.readStates.length, 0);
    net.heal();
    net.tickAll(1);
    assert.deepEqual(leader.readStates.map((r) => r.context), ['r1', 'r2', 'r3']);
  });

  test('a new leader defers reads until it commits an entry of its term', () => {
    const net = new Network([1n, 2n, 3n]);
    net.campaign(1n);
    net.ignore(MessageType.App);
    net.campaign(2n);
    const leader = net.get(2n);
    assert.equal(leader.node.status().state, 'leader');
    leader.node.readIndex(bytes('early'));
    net.stabilize();
    assert.equal(leader.readStates.length, 0);
    net.heal();
    net.tickAll(2);
    assert.equal(leader.readStates.length, 1);
    assert.equal(leader.readStates[0].index, leader.node.status().commit);
  });
});
