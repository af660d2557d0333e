/**
 * The deterministic simulator over many seeds (see simulation.ts). Every run prints its
 * seed range; a failure prints the seed, the invariant, the last steps and the one command
 * that reruns exactly that seed.
 *
 *   SIM_SEED=<n>        run only seed n (its parity picks 3 or 5 nodes)
 *   SIM_SEEDS=<n>       number of seeds (default 2000), from SIM_FIRST_SEED (default 1)
 *   SIM_STEPS=<n>       chaos steps per seed (default DEFAULT_STEPS)
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_STEPS, defaultClusterSize, runSimulation, SimulationFailure, type SimResult } from './simulation';

const envInt = (name: string, fallback: number): number => {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`${name} must be a non-negative integer, got ${raw}`);
  return n;
};

const single = process.env.SIM_SEED !== undefined && process.env.SIM_SEED !== '' ? envInt('SIM_SEED', 0) : undefined;
const firstSeed = single ?? envInt('SIM_FIRST_SEED', 1);
const seedCount = single !== undefined ? 1 : envInt('SIM_SEEDS', 2000);
const steps = envInt('SIM_STEPS', DEFAULT_STEPS);

function rerunCommand(seed: number): string {
  const stepsPart = steps === DEFAULT_STEPS ? '' : ` SIM_STEPS=${steps}`;
  return `SIM_SEED=${seed}${stepsPart} node --test ${__filename}`;
}

/** Runs the seeds of one cluster size; stops at the first failure. */
function runSeeds(clusterSize: number): { ran: number; results: SimResult[] } {
  const results: SimResult[] = [];
  for (let seed = firstSeed; seed < firstSeed + seedCount; seed++) {
    if (defaultClusterSize(seed) !== clusterSize) continue;
    try {
      results.push(runSimulation({ seed, steps }));
    } catch (err) {
      if (err instanceof SimulationFailure) {
        throw new Error(`simulation failed (${err.invariant}) — rerun with:\n  ${rerunCommand(seed)}\n${err.message}`);
      }
      throw err;
    }
  }
  return { ran: results.length, results };
}

describe('deterministic simulation of the Raft core and the member loop', () => {
  for (const clusterSize of [3, 5]) {
    const skip = single !== undefined && defaultClusterSize(single) !== clusterSize ? `SIM_SEED=${single} runs ${defaultClusterSize(single)} nodes` : false;
    test(`${clusterSize}-node clusters: safety after every step, convergence after healing`, { skip }, (t) => {
      const { ran, results } = runSeeds(clusterSize);
      const last = firstSeed + seedCount - 1;
      const maxTerm = results.reduce((m, r) => (r.maxTerm > m ? r.maxTerm : m), 0n);
      const commits = results.reduce((s, r) => s + r.maxCommit, 0n);
      const crashes = results.reduce((s, r) => s + r.crashes, 0);
      const changes = results.reduce((s, r) => s + r.membershipChanges, 0);
      const line =
        `sim: ${ran} seeds with ${clusterSize} nodes from seeds ${firstSeed}..${last}, ${steps} steps each ` +
        `(max term ${maxTerm}, ${commits} entries committed, ${crashes} crashes, ${changes} conf changes); ` +
        `rerun one: SIM_SEED=<seed> node --test ${__filename}`;
      t.diagnostic(line);
      assert.ok(ran > 0, 'ran at least one seed');
    });
  }

  test('a seed replays identically', () => {
    const seed = firstSeed;
    const a = runSimulation({ seed, steps: 200 });
    const b = runSimulation({ seed, steps: 200 });
    assert.deepEqual(a, b);
  });
});
