import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { ConfChangePendingError, ConfChangeType, MemoryStorage, MessageType, decodeConfChange, encodeConfChange } from '../../src/consensus';
import { bytes, Network } from './harness';

const addLearner = (nodeId: bigint) => ({ type: ConfChangeType.AddLearnerNode, nodeId, context: new Uint8Array(0) });
const addNode = (nodeId: bigint) => ({ type: ConfChangeType.AddNode, nodeId, context: new Uint8Array(0) });
const removeNode = (nodeId: bigint) => ({ type: ConfChangeType.RemoveNode, nodeId, context: new Uint8Array(0) });

describe('membership changes', () => {
  test('ConfChange round-trips through its entry encoding', () => {
    const cc = { type: ConfChangeType.AddLearnerNode, nodeId: 0xfedcba9876543210n, context: bytes('{"name":"m4"}') };
    assert.deepEqual(decodeConfChange(encodeConfChange(cc)), cc);
  });

  test('a learner catches up, never votes or counts, and is promoted to voter', () => {
    const net = new Network([1n, 2n, 3n]);
    net.campaign(1n);
    net.propose(1n, 'before');
    net.add(4n, new MemoryStorage(), 44);
    net.get(1n).node.proposeConfChange(addLearner(4n));
    net.stabilize();
    net.tickAll(3);
    assert.deepEqual(net.get(1n).node.status().confState, { voters: [1n, 2n, 3n], learners: [4n] });
    assert.deepEqual(net.get(4n).node.status().confState.learners, [4n]);
    assert.deepEqual(net.get(4n).appliedData(), ['before']);
    // A learner never campaigns.
    for (let i = 0; i < 50; i++) net.tick(4n);
    net.stabilize();
    assert.equal(net.get(4n).node.status().state, 'follower');
    assert.equal(net.leader(), 1n);
    // Commit needs 2 of the 3 voters; the learner's ack does not count.
    net.isolate(2n);
    net.isolate(3n);
    const commit = net.get(1n).node.status().commit;
    net.propose(1n, 'needs-voters');
    assert.equal(net.get(1n).node.status().commit, commit);
    net.heal();
    net.tickAll(2);
    net.get(1n).node.proposeConfChange(addNode(4n));
    net.stabilize();
    assert.deepEqual(net.get(1n).node.status().confState, { voters: [1n, 2n, 3n, 4n], learners: [] });
    assert.deepEqual(net.get(4n).node.status().confState.voters, [1n, 2n, 3n, 4n]);
    assert.deepEqual(net.get(4n).appliedData(), ['before', 'needs-voters']);
  });

  test('only one conf change may be pending at a time', () => {
    const net = new Network([1n, 2n, 3n]);
    net.campaign(1n);
    net.ignore(MessageType.App);
    net.get(1n).node.proposeConfChange(addLearner(4n));
    assert.throws(() => net.get(1n).node.proposeConfChange(addLearner(5n)), ConfChangePendingError);
    net.heal();
    net.tickAll(2);
    net.get(1n).node.proposeConfChange(addLearner(5n));
    net.stabilize();
    assert.deepEqual(net.get(1n).node.status().confState.learners, [4n, 5n]);
  });

  test('a removed follower stops counting toward the quorum', () => {
    const net = new Network([1n, 2n, 3n]);
    net.campaign(1n);
    net.get(1n).node.proposeConfChange(removeNode(3n));
    net.stabilize();
    assert.deepEqual(net.get(1n).node.status().confState.voters, [1n, 2n]);
    net.isolate(3n);
    net.propose(1n, 'two-voters');
    assert.deepEqual(net.get(2n).appliedData(), ['two-voters']);
  });

  test('removing the leader makes it step down and the rest elect a new leader', () => {
    const net = new Network([1n, 2n, 3n]);
    net.campaign(1n);
    net.get(1n).node.proposeConfChange(removeNode(1n));
    net.stabilize();
    assert.notEqual(net.get(1n).node.status().state, 'leader');
    net.isolate(1n);
    const lead = net.electLeader();
    assert.ok(lead === 2n || lead === 3n);
    net.propose(lead, 'after-removal');
    assert.deepEqual(net.get(lead === 2n ? 3n : 2n).appliedData(), ['after-removal']);
  });
});
