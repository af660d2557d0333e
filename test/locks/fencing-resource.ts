/**
 * The resource a lock protects, as a fencing-aware service implements it: it remembers the
 * highest token it has accepted and refuses anything lower. It also records who held the
 * lock when, so a test can check that no two holders overlapped.
 */
export class FencedResource {
  private highest = 0n;
  readonly accepted: Array<{ holder: number; token: bigint; atMs: number }> = [];
  readonly rejected: Array<{ holder: number; token: bigint; atMs: number }> = [];
  private current: { holder: number; token: bigint } | undefined;
  readonly overlaps: string[] = [];

  /** A holder writes under its token; false when a higher token was already seen. */
  write(holder: number, token: bigint): boolean {
    const atMs = performance.now();
    if (token < this.highest) {
      this.rejected.push({ holder, token, atMs });
      return false;
    }
    this.highest = token;
    this.accepted.push({ holder, token, atMs });
    return true;
  }

  enter(holder: number, token: bigint): void {
    if (this.current !== undefined) this.overlaps.push(`holder ${holder} (token ${token}) entered while holder ${this.current.holder} (token ${this.current.token}) was inside`);
    this.current = { holder, token };
  }

  leave(holder: number): void {
    if (this.current?.holder === holder) this.current = undefined;
  }
}
