import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { Network } from './harness';

describe('pre-vote', () => {
  test('a partitioned node does not inflate its term, and rejoining does not depose the leader', () => {
    const net = new Network([1n, 2n, 3n], { preVote: true });
    net.campaign(1n);
    const term = net.get(1n).node.status().term;
    net.isolate(3n);
    for (let i = 0; i < 100; i++) {
      net.tick(3n);
      net.collect();
      net.queue = [];
    }
    assert.equal(net.get(3n).node.status().term, term, 'pre-vote failed so the term stayed');
    assert.equal(net.get(3n).node.status().state, 'precandidate');
    net.heal();
    net.tickAll(5);
    assert.equal(net.leader(), 1n);
    assert.equal(net.get(1n).node.status().term, term);
    assert.equal(net.get(3n).node.status().lead, 1n);
  });

  test('without pre-vote the same partition forces a new election', () => {
    const net = new Network([1n, 2n, 3n]);
    net.campaign(1n);
    const term = net.get(1n).node.status().term;
    net.isolate(3n);
    for (let i = 0; i < 100; i++) {
      net.tick(3n);
      net.collect();
      net.queue = [];
    }
    assert.ok(net.get(3n).node.status().term > term);
    net.heal();
    net.tickAll(40);
    assert.ok(net.get(net.electLeader()).node.status().term > term);
  });

  test('pre-vote elects a leader in a healthy cluster', () => {
    const net = new Network([1n, 2n, 3n], { preVote: true });
    net.campaign(2n);
    assert.equal(net.leader(), 2n);
    assert.equal(net.get(2n).node.status().term, 2n);
  });
});

describe('check quorum', () => {
  test('a leader that cannot hear from a quorum steps down after an election timeout', () => {
    const net = new Network([1n, 2n, 3n], { checkQuorum: true });
    net.campaign(1n);
    net.isolate(1n);
    for (let i = 0; i < 21; i++) {
      net.tick(1n);
      net.collect();
      net.queue = [];
    }
    assert.equal(net.get(1n).node.status().state, 'follower');
  });

  test('a leader with a live quorum stays leader', () => {
    const net = new Network([1n, 2n, 3n], { checkQuorum: true });
    net.campaign(1n);
    net.isolate(3n);
    for (let i = 0; i < 30; i++) {
      net.tick(1n);
      net.stabilize();
    }
    assert.equal(net.get(1n).node.status().state, 'leader');
  });

  test('followers in lease ignore a disruptive candidate’s vote request', () => {
    const net = new Network([1n, 2n, 3n], { checkQuorum: true });
    net.campaign(1n);
    const term = net.get(1n).node.status().term;
    net.get(3n).node.campaign(); // 3 asks 1 and 2 for votes in term+1 while they hear from 1
    net.stabilize();
    assert.equal(net.get(1n).node.status().state, 'leader');
    assert.equal(net.get(1n).node.status().term, term);
    assert.equal(net.get(2n).node.status().term, term);
    // The disruptive node rejoins once the leader's heartbeats reach it: the leader answers its
    // stale-term responses, so everyone converges on one leader.
    net.tickAll(30);
    const lead = net.electLeader();
    for (const id of [1n, 2n, 3n]) assert.equal(net.get(id).node.status().lead, lead);
  });
});
