/**
 * A progress display on stderr. On a TTY it redraws one line (a bar) ~10 times a second;
 * otherwise it prints a plain progress line every few seconds, so logs stay readable.
 */

const TTY_REDRAW_MS = 100;
const PLAIN_LINE_MS = 5_000;
const BAR_WIDTH = 30;

export interface ProgressSink {
  /** `done` operations so far; errors so far. */
  update(done: number, errors: number): void;
  finish(): void;
}

export const silentProgress: ProgressSink = { update: () => undefined, finish: () => undefined };

export class ProgressBar implements ProgressSink {
  private done = 0;
  private errors = 0;
  private readonly startedMs = Date.now();
  private readonly timer: NodeJS.Timeout;
  private readonly tty: boolean;

  /** Bounded either by `total` operations or by `durationMs`. */
  constructor(
    private readonly out: NodeJS.WriteStream,
    private readonly label: string,
    private readonly bound: { total?: number; durationMs?: number },
  ) {
    this.tty = out.isTTY === true;
    this.timer = setInterval(() => this.draw(), this.tty ? TTY_REDRAW_MS : PLAIN_LINE_MS);
    this.timer.unref();
  }

  update(done: number, errors: number): void {
    this.done = done;
    this.errors = errors;
  }

  /** Fraction complete in [0, 1]. */
  fraction(): number {
    if (this.bound.total !== undefined) return Math.min(1, this.done / this.bound.total);
    if (this.bound.durationMs !== undefined) return Math.min(1, (Date.now() - this.startedMs) / this.bound.durationMs);
    return 0;
  }

  private line(): string {
    const elapsedSeconds = (Date.now() - this.startedMs) / 1000;
    const rate = elapsedSeconds > 0 ? Math.round(this.done / elapsedSeconds) : 0;
    const errors = this.errors > 0 ? `, ${this.errors} errors` : '';
    return `${this.label} ${Math.floor(this.fraction() * 100)}% ${this.done} ops ${rate}/s ${elapsedSeconds.toFixed(1)}s${errors}`;
  }

  private draw(): void {
    if (this.tty) {
      const filled = Math.round(this.fraction() * BAR_WIDTH);
      this.out.write(`\r[${'='.repeat(filled)}${' '.repeat(BAR_WIDTH - filled)}] ${this.line()}\x1b[K`);
    } else {
      this.out.write(`${this.line()}\n`);
    }
  }

  finish(): void {
    clearInterval(this.timer);
    this.draw();
    if (this.tty) this.out.write('\n');
  }
}
