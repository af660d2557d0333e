import { performance } from 'node:perf_hooks';
import type { Operation, OperationStatus } from '../history';
import { CallError } from './rpc';

/**
 * Records client operations into the shared history shape (src/verify/history.ts) and keeps
 * what the progress line and the timeline need. Times are ms since the run began.
 */

/** One bar of the timeline picture: real end time even for unknown ops. */
export interface TimelineBar {
  client: number;
  workload: string;
  label: string;
  status: OperationStatus;
  startMs: number;
  endMs: number;
}

export interface Counters {
  ok: number;
  fail: number;
  unknown: number;
}

const MAX_BARS = 200_000;

export class Clock {
  private origin = performance.now();
  /** Time zero becomes now (the runner calls it when the workload starts). */
  reset(): void {
    this.origin = performance.now();
  }
  now(): number {
    return performance.now() - this.origin;
  }
}

export class Recorder {
  readonly counters: Counters = { ok: 0, fail: 0, unknown: 0 };
  readonly bars: TimelineBar[] = [];
  private nextId = 0;
  private nextClient = 0;

  constructor(readonly clock: Clock) {}

  /** A fresh client id: a client that saw an unknown result is retired (its op may still be pending). */
  newClient(): number {
    return this.nextClient++;
  }

  /**
   * Runs `call` as one operation of `client`. `effectless` operations (reads) count as 'fail'
   * on any error, since they cannot have changed anything; others are 'unknown' unless the
   * error proves the request never applied.
   */
  async run<I, O>(
    workload: string,
    client: number,
    input: I,
    label: string,
    effectless: boolean,
    call: () => Promise<O>,
  ): Promise<Operation<I, O>> {
    const id = this.nextId++;
    const startMs = this.clock.now();
    let op: Operation<I, O>;
    let realEnd: number;
    try {
      const output = await call();
      realEnd = this.clock.now();
      op = { id, client, input, output, status: 'ok', startMs, endMs: realEnd };
    } catch (error) {
      realEnd = this.clock.now();
      const definite = effectless || (error instanceof CallError && error.definitelyFailed) || error instanceof DefiniteFailure;
      op = definite
        ? { id, client, input, status: 'fail', startMs, endMs: realEnd }
        : { id, client, input, status: 'unknown', startMs, endMs: Infinity };
    }
    this.counters[op.status]++;
    if (this.bars.length < MAX_BARS) this.bars.push({ client, workload, label, status: op.status, startMs, endMs: realEnd });
    return op;
  }
}

/** Thrown by an operation body to say: certainly did not take effect (e.g. a failed precondition read). */
export class DefiniteFailure extends Error {}
