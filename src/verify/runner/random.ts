import { Mulberry32 } from '../../mulberry32';

/** Seeded PRNG (mulberry32): the same --seed gives the same fault schedule and op mix. */
export class Random extends Mulberry32 {
  /** Integer in [lo, hi]. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('pick from empty list');
    return items[Math.floor(this.next() * items.length)]!;
  }

  /** A derived generator (one per client), so clients do not share a sequence. */
  fork(): Random {
    return new Random(this.forkSeed());
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
