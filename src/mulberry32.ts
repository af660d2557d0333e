/**
 * A seeded mulberry32 generator: the one deterministic source of randomness behind the
 * verifier's fault schedules and the Raft simulator, so a seed replays the same run.
 */
export class Mulberry32 {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** A seed for a derived generator, drawn from this one. */
  protected forkSeed(): number {
    return Math.floor(this.next() * 4294967296);
  }
}
