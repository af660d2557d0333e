import type { Wal } from '../../src/storage/wal';

type SaveArgs = Parameters<Wal['save']>;

/** Holds a member's WAL saves that `rule` picks until they are released. */
export class SaveGate {
  rule: ((hardState: SaveArgs[0], entries: SaveArgs[1]) => boolean) | undefined;
  private release: Array<() => void> = [];
  private onHeld: (() => void) | undefined;

  /** Wraps a WAL save: saves the rule picks resolve only after `open()` or `releaseHeld()`. */
  wrap(save: Wal['save']): Wal['save'] {
    return (hardState, entries, sync) => {
      const done = save(hardState, entries, sync);
      if (this.rule === undefined || !this.rule(hardState, entries)) return done;
      this.onHeld?.();
      return new Promise<void>((resolve, reject) => this.release.push(() => done.then(resolve, reject)));
    };
  }

  /** Resolves when the next save the rule picks is held. */
  held(): Promise<'held'> {
    return new Promise((resolve) => {
      this.onHeld = () => resolve('held');
    });
  }

  get holding(): boolean {
    return this.release.length > 0;
  }

  /** Lets the saves held so far finish; the rule stays. */
  releaseHeld(): void {
    for (const release of this.release.splice(0)) release();
  }

  open(): void {
    this.rule = undefined;
    this.onHeld = undefined;
    this.releaseHeld();
  }
}
