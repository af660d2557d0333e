import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { Network } from './harness';

const ELECTION_TICKS = 10;
const SURVIVORS = [2n, 3n] as const;

/** A 3-node cluster (pre-vote and check-quorum on, as members run) led by node 1. */
function ledByOne(seed: number): Network {
  const net = new Network([1n, 2n, 3n], { preVote: true, checkQuorum: true, electionTicks: ELECTION_TICKS }, seed);
  net.campaign(1n);
  net.stabilize();
  assert.equal(net.leader(), 1n);
  return net;
}

/** Ticks only the survivors (node 1 is dead) until one of them leads; returns the ticks taken, or undefined. */
function ticksUntilSurvivorLeads(net: Network, maxTicks: number): number | undefined {
  for (let ticks = 1; ticks <= maxTicks; ticks++) {
    for (const id of SURVIVORS) net.tick(id);
    net.stabilize();
    const leader = SURVIVORS.find((id) => net.get(id).node.status().state === 'leader');
    if (leader !== undefined) return ticks;
  }
  return undefined;
}

describe('a leader known to be down (its peer port refuses connections)', () => {
  test('survivors told of it elect a new leader a whole election timeout sooner than survivors that wait it out', () => {
    // Same seed, same randomized timeouts: the told run skips exactly the plain timeout
    // (a same-tick pre-vote collision costs both runs the same extra round).
    for (let seed = 1; seed <= 20; seed++) {
      const told = ledByOne(seed);
      told.isolate(1n);
      for (const id of SURVIVORS) assert.equal(told.get(id).node.reportLeaderDown(1n), true, `seed ${seed}: node ${id} moved its timer`);
      const fast = ticksUntilSurvivorLeads(told, 4 * ELECTION_TICKS);

      const untold = ledByOne(seed);
      untold.isolate(1n);
      const slow = ticksUntilSurvivorLeads(untold, 4 * ELECTION_TICKS);
      assert.ok(fast !== undefined && slow !== undefined, `seed ${seed}: no new leader (told ${fast}, untold ${slow})`);
      assert.ok(slow >= ELECTION_TICKS, `seed ${seed}: untold survivors elected after ${slow} ticks`);
      // (A timer already at its deadline still fires on the next tick.)
      assert.equal(fast, Math.max(1, slow - ELECTION_TICKS), `seed ${seed}: told ${fast} ticks, untold ${slow}`);
    }
  });

  test('a report about a member that is not the leader, or a second report, changes nothing', () => {
    const net = ledByOne(7);
    assert.equal(net.get(2n).node.reportLeaderDown(3n), false, 'node 3 is not the leader');
    assert.equal(net.get(1n).node.reportLeaderDown(2n), false, 'the leader itself ignores it');
    assert.equal(net.get(2n).node.reportLeaderDown(1n), true);
    assert.equal(net.get(2n).node.reportLeaderDown(1n), false, 'the timer was already moved');
  });

  test('a wrong report about a live leader does not depose it: its heartbeats win and pre-vote refuses the campaign', () => {
    const net = ledByOne(3);
    const term = net.get(1n).node.status().term;
    for (let round = 0; round < 5; round++) {
      net.get(2n).node.reportLeaderDown(1n);
      net.tickAll(ELECTION_TICKS);
    }
    assert.equal(net.leader(), 1n);
    assert.equal(net.get(1n).node.status().term, term, 'no election took place');
  });
});
