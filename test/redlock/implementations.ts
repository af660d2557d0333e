import RedisMock from 'ioredis-mock';
import RealRedlock, {
  ExecutionError as RealExecutionError,
  ResourceLockedError as RealResourceLockedError,
} from 'redlock';
import { Redlock, ExecutionError, ResourceLockedError } from '../../clients/typescript/src/redlock';

/**
 * The two implementations the contract suite runs against, seen through the API they share
 * (redlock v5's): the real `redlock` over ioredis-mock, and latchkey's Redlock over a
 * latchkey process. Durations differ only because a lease's TTL is whole seconds with a
 * 2 s minimum on etcd, where a Redis PX can be a few milliseconds.
 */

export interface StatsLike {
  readonly membershipSize: number;
  readonly quorumSize: number;
  readonly votesFor: Set<unknown>;
  readonly votesAgainst: Map<unknown, Error>;
}

export interface LockLike {
  readonly resources: string[];
  readonly value: string;
  readonly attempts: ReadonlyArray<Promise<StatsLike>>;
  expiration: number;
  release(): Promise<unknown>;
  extend(duration: number): Promise<LockLike>;
}

export interface SettingsLike {
  retryCount?: number;
  retryDelay?: number;
  retryJitter?: number;
  automaticExtensionThreshold?: number;
}

export interface RedlockLike {
  acquire(resources: string[], duration: number, settings?: SettingsLike): Promise<LockLike>;
  release(lock: LockLike): Promise<unknown>;
  using<T>(resources: string[], duration: number, settings: SettingsLike, routine: (signal: AbortSignal & { error?: Error }) => Promise<T>): Promise<T>;
  on(event: 'error', listener: (error: Error) => void): unknown;
  quit(): Promise<void>;
}

export interface Implementation {
  readonly name: string;
  /** A lock duration short enough for tests and valid for this backend. */
  readonly durationMs: number;
  /** A fresh client (a separate process would use its own), with these default settings. */
  client(settings?: SettingsLike): RedlockLike;
  readonly ExecutionError: abstract new (...args: never[]) => Error;
  readonly ResourceLockedError: abstract new (...args: never[]) => Error;
}

export function redisImplementation(): Implementation {
  return {
    name: 'redlock over ioredis-mock',
    // Scenarios extend at half the duration: 600 ms left a loaded 2-core machine too little
    // room, and a late extend found the lock already expired.
    durationMs: 1500,
    // ioredis-mock instances share one keyspace, like clients of one Redis server.
    client: (settings) => new RealRedlock([new RedisMock()], settings) as unknown as RedlockLike,
    ExecutionError: RealExecutionError,
    ResourceLockedError: RealResourceLockedError,
  };
}

export function latchkeyImplementation(endpoint: string): Implementation {
  return {
    name: 'latchkey Redlock',
    durationMs: 2000,
    client: (settings) => new Redlock(endpoint, settings) as unknown as RedlockLike,
    ExecutionError,
    ResourceLockedError,
  };
}

/** Resolves after `ms`: only for scenarios whose subject is the passage of time (TTL, extension). */
export function elapse(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
