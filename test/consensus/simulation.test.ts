import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import type { Message } from '../../src/consensus';
import { ConfChangeType, MemoryStorage, ProposalDroppedError } from '../../src/consensus';
import { bytes, Network, seededRandom } from './harness';

/**
 * Random schedules: message loss, duplication and reordering, partitions, crashes with
 * restart from storage, compaction. Safety (one leader per term, applied logs agree, leader
 * completeness) is checked after every step by the harness; after healing, the cluster must
 * converge. Failures print the seed.
 */
function runSchedule(seed: number, options: { preVote: boolean; checkQuorum: boolean; membership: boolean }): void {
  const random = seededRandom(seed);
  const ids = [1n, 2n, 3n, 4n, 5n];
  const net = new Network(ids, options, seed);
  if (options.membership) {
    // Node 6 starts empty and joins as a learner, then is promoted, during the chaos.
    net.add(6n, new MemoryStorage(), seed + 6);
    ids.push(6n);
  }
  const pick = <T>(xs: T[]): T => xs[Math.floor(random() * xs.length)];
  let proposed = 0;
  for (let step = 0; step < 400; step++) {
    const r = random();
    if (r < 0.02) {
      net.heal();
      const shuffled = [...ids].sort(() => random() - 0.5);
      const cut = 1 + Math.floor(random() * 2);
      net.partition(shuffled.slice(0, cut), shuffled.slice(cut));
    } else if (r < 0.04) {
      net.heal();
    } else if (r < 0.05) {
      net.restart(pick(ids), Math.floor(random() * 1e9));
    } else if (r < 0.06) {
      const n = net.get(pick(ids));
      if (n.appliedIndex > n.storage.snapshot().metadata.index) n.compact();
    } else if (r < 0.08 && options.membership) {
      proposeMembershipStep(net, pick(ids));
    } else if (r < 0.3) {
      try {
        net.get(pick(ids)).node.propose(bytes(`v${proposed++}`));
      } catch (err) {
        if (!(err instanceof ProposalDroppedError)) throw err;
      }
    } else {
      for (const id of ids) net.get(id).node.tick();
    }
    net.collect();
    // Deliver a random subset, with loss, duplication and reordering.
    const batch: Message[] = net.queue.sort(() => random() - 0.5);
    net.queue = [];
    for (const m of batch) {
      const fate = random();
      if (fate < 0.1) {
        net.drop(m); // lost
        continue;
      }
      if (fate < 0.15) net.queue.push(m); // delayed to a later step
      else net.deliver(m);
      if (fate > 0.97) net.deliver(m); // duplicated
    }
  }
  net.heal();
  net.stabilize();
  // Liveness after healing: a proposal eventually commits everywhere. Without pre-vote a
  // node with a stale higher term may force extra elections, so retry within a bound.
  if (options.membership) {
    const isVoter6 = () => net.get(net.electLeader(500)).node.status().confState.voters.includes(6n);
    for (let attempt = 0; attempt < 20 && !isVoter6(); attempt++) {
      proposeMembershipStep(net, net.electLeader(500));
      net.stabilize();
      net.tickAll(5);
    }
    assert.ok(isVoter6(), 'node 6 became a voter');
  }
  const hasFinal = (id: bigint) => net.get(id).appliedData().includes('final');
  for (let attempt = 0; attempt < 10 && !ids.some(hasFinal); attempt++) {
    const lead = net.electLeader(500);
    try {
      net.propose(lead, 'final');
    } catch (err) {
      if (!(err instanceof ProposalDroppedError)) throw err;
    }
    for (let i = 0; i < 50 && !ids.some(hasFinal); i++) net.tickAll();
  }
  for (let i = 0; i < 300 && !ids.every(hasFinal); i++) net.tickAll();
  const withFinal = ids.find(hasFinal);
  assert.ok(withFinal !== undefined, 'a proposal committed after healing');
  const expected = net.get(withFinal).appliedData();
  for (const id of ids) assert.deepEqual(net.get(id).appliedData(), expected, `node ${id} converged`);
}

function proposeMembershipStep(net: Network, via: bigint): void {
  const cs = net.get(via).node.status().confState;
  const type = cs.learners.includes(6n) ? ConfChangeType.AddNode : cs.voters.includes(6n) ? undefined : ConfChangeType.AddLearnerNode;
  if (type === undefined) return;
  try {
    net.get(via).node.proposeConfChange({ type, nodeId: 6n, context: new Uint8Array(0) });
  } catch (err) {
    if (!(err instanceof ProposalDroppedError)) throw err;
  }
}

describe('randomized schedules', () => {
  for (const options of [
    { preVote: false, checkQuorum: false, membership: false },
    { preVote: true, checkQuorum: true, membership: false },
    { preVote: true, checkQuorum: true, membership: true },
  ]) {
    test(`safety and convergence under loss, partitions and restarts (${JSON.stringify(options)})`, () => {
      const firstSeed = Number(process.env.RAFT_SIM_FIRST_SEED ?? 1);
      const seeds = Number(process.env.RAFT_SIM_SEEDS ?? 40);
      for (let seed = firstSeed; seed < firstSeed + seeds; seed++) {
        try {
          runSchedule(seed, options);
        } catch (err) {
          throw new Error(`seed ${seed} failed: ${(err as Error).stack}`);
        }
      }
    });
  }
});
