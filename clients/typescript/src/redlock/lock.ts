import type { HeldResource } from './resource-mutex';
import type { ExecutionResult, ExecutionStats } from './settings';

/** What a Lock calls back into (the Redlock that made it). */
export interface LockOwner {
  release(lock: Lock): Promise<ExecutionResult>;
  extend(lock: Lock, durationMs: number): Promise<Lock>;
  fencedPut(lock: Lock, key: string | Buffer, value: string | Buffer): Promise<boolean>;
}

/**
 * A held lock, shaped like redlock's `Lock` (resources, value, attempts, expiration,
 * release(), extend()), plus what latchkey adds: the lease behind it and fencing tokens.
 */
export class Lock {
  constructor(
    readonly redlock: LockOwner,
    readonly resources: string[],
    /** The lease id (lowercase hex) the lock was acquired with: the suffix of every holder key. */
    readonly value: string,
    readonly attempts: ReadonlyArray<Promise<ExecutionStats>>,
    /** Until when (ms since epoch) the lock is certainly held; 0 once released or replaced by extend. */
    public expiration: number,
    /** The lease the holder keys are attached to now (extend may move them to a new lease). */
    readonly leaseId: bigint,
    /** That lease's TTL as granted, in seconds. */
    readonly leaseTtlSeconds: number,
    /** One entry per resource, in acquisition (sorted) order. */
    readonly held: readonly HeldResource[],
  ) {
    if (held.length !== resources.length) throw new Error('a lock holds exactly one key per resource');
  }

  /**
   * The fencing token: the highest create revision among this lock's holder keys. Every later
   * holder of any of these resources gets a strictly greater token, so a resource that
   * remembers the highest token it has accepted can refuse this holder once it is stale.
   */
  get fencingToken(): bigint {
    let highest = 0n;
    for (const entry of this.held) if (entry.fencingToken > highest) highest = entry.fencingToken;
    return highest;
  }

  /** Per-resource fencing tokens (create revision of each holder key). */
  get fencingTokens(): Map<string, bigint> {
    return new Map(this.held.map((entry) => [entry.resource, entry.fencingToken]));
  }

  release(): Promise<ExecutionResult> {
    return this.redlock.release(this);
  }

  extend(durationMs: number): Promise<Lock> {
    return this.redlock.extend(this, durationMs);
  }

  /** Put key=value only while this lock still holds every resource (one Txn); false if fenced off. */
  fencedPut(key: string | Buffer, value: string | Buffer): Promise<boolean> {
    return this.redlock.fencedPut(this, key, value);
  }
}
