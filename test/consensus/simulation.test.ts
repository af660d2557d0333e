import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import type { Message } from '../../src/consensus';
import { ProposalDroppedError } from '../../src/consensus';
import { bytes, Network, seededRandom } from './harness';

/**
 * Random schedules: message loss, duplication and reordering, partitions, crashes with
 * restart from storage, compaction. Safety (one leader per term, applied logs agree, leader
 * completeness) is checked after every step by the harness; after healing, the cluster must
 * converge. Failures print the seed.
 */
function runSchedule(seed: number, options: { preVote: boolean; checkQuorum: boolean }): void {
  const random = seededRandom(seed);
  const ids = [1n, 2n, 3n, 4n, 5n];
  const net = new Network(ids, options, seed);
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
      if (fate < 0.1) continue; // lost
      if (fate < 0.15) net.queue.push(m); // delayed to a later step
      else net.deliver(m);
      if (fate > 0.97) net.deliver(m); // duplicated
    }
  }
  net.heal();
  const deliverSnapshots = net.deliver.bind(net);
  net.deliver = (m) => {
    deliverSnapshots(m);
    if (m.snapshot) net.get(m.from).node.reportSnapshot(m.to, true);
  };
  net.stabilize();
  const lead = net.electLeader(500);
  net.propose(lead, 'final');
  const expected = [...net.get(lead).appliedData()];
  assert.equal(expected[expected.length - 1], 'final');
  // A node with a stale higher term may force one more election (no pre-vote): allow time.
  const converged = () => ids.every((id) => net.get(id).appliedData().length >= expected.length);
  for (let i = 0; i < 300 && !converged(); i++) net.tickAll();
  for (const id of ids) assert.deepEqual(net.get(id).appliedData().slice(0, expected.length), expected, `node ${id} converged`);
}

describe('randomized schedules', () => {
  for (const options of [
    { preVote: false, checkQuorum: false },
    { preVote: true, checkQuorum: true },
  ]) {
    test(`safety and convergence under loss, partitions and restarts (${JSON.stringify(options)})`, () => {
      for (let seed = 1; seed <= 40; seed++) {
        try {
          runSchedule(seed, options);
        } catch (err) {
          throw new Error(`seed ${seed} failed: ${(err as Error).stack}`);
        }
      }
    });
  }
});
