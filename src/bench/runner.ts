import { Histogram } from './histogram';
import type { ProgressSink } from './progress';

/**
 * Drives `clients` concurrent workers, each running one operation at a time, until `total`
 * operations have been issued or `durationMs` has passed. Successful operations record
 * their latency; failed ones are counted (the first message is kept for the report).
 */

export type Operation = (worker: number, seq: number) => Promise<void>;

export interface RunBound {
  clients: number;
  total?: number;
  durationMs?: number;
}

export interface RunResult {
  histogram: Histogram;
  ops: number;
  errors: number;
  firstError?: string;
  elapsedMs: number;
}

const PROGRESS_EVERY_OPS = 64;

export async function runWorkers(bound: RunBound, op: Operation, progress: ProgressSink): Promise<RunResult> {
  if (bound.total === undefined && bound.durationMs === undefined) throw new Error('runWorkers: a total or a duration is required');
  const histogram = new Histogram();
  const startedMs = performance.now();
  const deadlineMs = bound.durationMs === undefined ? Number.POSITIVE_INFINITY : startedMs + bound.durationMs;
  let issued = 0;
  let errors = 0;
  let firstError: string | undefined;

  const nextSeq = (): number | undefined => {
    if (bound.total !== undefined && issued >= bound.total) return undefined;
    if (performance.now() >= deadlineMs) return undefined;
    return issued++;
  };

  const worker = async (index: number): Promise<void> => {
    for (let seq = nextSeq(); seq !== undefined; seq = nextSeq()) {
      const opStartMs = performance.now();
      try {
        await op(index, seq);
        histogram.recordMs(performance.now() - opStartMs);
      } catch (error) {
        errors++;
        firstError ??= error instanceof Error ? error.message : String(error);
      }
      const done = histogram.count + errors;
      if (done % PROGRESS_EVERY_OPS === 0) progress.update(histogram.count, errors);
    }
  };

  await Promise.all(Array.from({ length: bound.clients }, (_unused, i) => worker(i)));
  const elapsedMs = performance.now() - startedMs;
  progress.update(histogram.count, errors);
  progress.finish();
  return { histogram, ops: histogram.count, errors, firstError, elapsedMs };
}
