import { Mulberry32 } from '../../src/mulberry32';

/**
 * The simulator's only source of randomness: a seeded mulberry32 PRNG. Everything random in
 * a run (scheduling, faults, Raft's election timeouts) is drawn from generators forked from
 * one seed, so a seed replays the same run exactly.
 */
export class Rng extends Mulberry32 {
  /** Uniform integer in [0, n). */
  int(n: number): number {
    if (!(n > 0)) throw new Error(`rng.int needs n > 0, got ${n}`);
    return Math.floor(this.next() * n);
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(xs: readonly T[]): T {
    if (xs.length === 0) throw new Error('rng.pick from an empty list');
    return xs[this.int(xs.length)]!;
  }

  /** A new independent generator (e.g. for one node's Raft), seeded from this one. */
  fork(): Rng {
    return new Rng(this.forkSeed());
  }

  /** Fisher-Yates shuffle of a copy. */
  shuffled<T>(xs: readonly T[]): T[] {
    const out = [...xs];
    for (let i = out.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      [out[i], out[j]] = [out[j]!, out[i]!];
    }
    return out;
  }
}
