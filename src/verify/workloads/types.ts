import type { CheckResult } from '../history';
import type { Random } from '../runner/random';
import type { Recorder } from '../runner/recorder';
import type { EtcdRpc } from '../runner/rpc';

/**
 * A workload: what the verify runner's clients do, and how its history is judged. Workers
 * run concurrently until `stopped()`; each worker talks to one member. After the run heals
 * and quiesces, `finish` does the final authoritative reads and runs the checkers.
 */
export interface Workload {
  readonly name: string;
  runWorker(worker: number, rpc: EtcdRpc, random: Random, stopped: () => boolean): Promise<void>;
  /** `rpc` is a healthy member after quiescence. */
  finish(rpc: EtcdRpc): Promise<WorkloadResult>;
}

export interface WorkloadResult {
  /** The recorded history in the shape of src/verify/history.ts (written to history.json). */
  history: unknown;
  checks: CheckResult[];
}

export interface WorkloadDeps {
  recorder: Recorder;
  /** Bound on operations per worker (runs stop at the duration or this, whichever first). */
  maxOpsPerWorker: number;
  /** Key prefix so runs never collide with other data. */
  prefix: string;
}

/** Pause between a worker's operations: keeps histories small enough to check. */
export const THINK_MS = 5;

/** Pause after a failed or indeterminate operation: no tight loop against a dead member. */
export const FAILURE_BACKOFF_MS = 100;
