/**
 * The set of linearized operations, with a compact exact key for the memoization cache.
 *
 * Operations are numbered so that known-outcome ones come first in call order (0..known-1)
 * and unknown-outcome ones after. Every known operation below `low` is linearized; above
 * it only operations concurrent with operation `low` can be (none may be linearized past
 * an earlier operation's return), so the key - low, the few set bits above it, and the
 * unknown operations' bits - stays short however long the history. Unknown operations
 * are pending until the end, so they would pin `low` if they shared its numbering.
 */
export class LinearizedSet {
  private readonly words: Uint32Array;
  private setKnown = 0;
  /** The lowest known operation not linearized (knownCount when all are). */
  low = 0;
  /** The unknown operations' part of key(); they change rarely, so it is rebuilt lazily. */
  private unknownKey: string | undefined = '';

  constructor(readonly knownCount: number, readonly unknownCount: number) {
    this.words = new Uint32Array(Math.ceil((knownCount + unknownCount) / 32) + 1);
  }

  has(operation: number): boolean {
    return (this.words[operation >>> 5]! & (1 << (operation & 31))) !== 0;
  }

  set(operation: number): void {
    if (this.has(operation)) throw new Error(`operation ${operation} already linearized`);
    this.words[operation >>> 5]! |= 1 << (operation & 31);
    if (operation >= this.knownCount) {
      this.unknownKey = undefined;
      return;
    }
    this.setKnown++;
    while (this.low < this.knownCount && this.has(this.low)) this.low++;
  }

  clear(operation: number): void {
    if (!this.has(operation)) throw new Error(`operation ${operation} not linearized`);
    this.words[operation >>> 5]! &= ~(1 << (operation & 31));
    if (operation >= this.knownCount) {
      this.unknownKey = undefined;
      return;
    }
    this.setKnown--;
    if (operation < this.low) this.low = operation;
  }

  /** Exact key of the set, given that every known operation below `low` is set. */
  key(): string {
    const parts: string[] = [];
    let remaining = this.setKnown - this.low;
    for (let operation = this.low + 1; remaining > 0; operation++) {
      if (operation >= this.knownCount) throw new Error('linearized-set count out of step with its bits');
      if (this.has(operation)) {
        parts.push((operation - this.low).toString(36));
        remaining--;
      }
    }
    if (this.unknownKey === undefined) {
      const linearizedUnknown: string[] = [];
      for (let index = 0; index < this.unknownCount; index++) {
        if (this.has(this.knownCount + index)) linearizedUnknown.push(index.toString(36));
      }
      this.unknownKey = linearizedUnknown.join(',');
    }
    return `${parts.join(',')}|${this.unknownKey}`;
  }
}
