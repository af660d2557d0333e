/**
 * The error classes of the `redlock` npm package (v5), with the same names, messages and
 * fields, so code that catches them keeps working after swapping the import.
 */
import type { ExecutionStats } from './settings';

/** One or more of the requested resources is held by another lock. */
export class ResourceLockedError extends Error {
  constructor(override readonly message: string) {
    super();
    this.name = 'ResourceLockedError';
  }
}

/**
 * An operation failed on every attempt of its retry window. `attempts` holds one stats
 * promise per attempt, as redlock's does (membership is always one latchkey cluster).
 */
export class ExecutionError extends Error {
  constructor(
    override readonly message: string,
    readonly attempts: ReadonlyArray<Promise<ExecutionStats>>,
  ) {
    super();
    this.name = 'ExecutionError';
  }
}
