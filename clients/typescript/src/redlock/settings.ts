import type { EtcdRpc } from './etcd-rpc';

/** redlock v5's settings, same names, units (milliseconds) and defaults. */
export interface Settings {
  readonly driftFactor: number;
  /** Attempts after the first; -1 = retry forever. */
  readonly retryCount: number;
  readonly retryDelay: number;
  readonly retryJitter: number;
  /** `using` extends the lock this many ms before it would expire. */
  readonly automaticExtensionThreshold: number;
}

export const defaultSettings: Readonly<Settings> = Object.freeze({
  driftFactor: 0.01,
  retryCount: 10,
  retryDelay: 200,
  retryJitter: 100,
  automaticExtensionThreshold: 500,
});

/**
 * The votes of one attempt. redlock counts votes across independent Redis servers; here the
 * quorum lives inside the latchkey cluster (Raft), so the membership seen by the client is
 * one cluster and one vote decides.
 */
export interface ExecutionStats {
  readonly membershipSize: number;
  readonly quorumSize: number;
  readonly votesFor: Set<EtcdRpc>;
  readonly votesAgainst: Map<EtcdRpc, Error>;
}

export interface ExecutionResult {
  attempts: ReadonlyArray<Promise<ExecutionStats>>;
}

/** redlock's AbortSignal with the extension error attached. */
export type RedlockAbortSignal = AbortSignal & { error?: Error };

export function mergeSettings(base: Settings, override: Partial<Settings> | undefined): Settings {
  if (override === undefined) return base;
  const pick = (name: keyof Settings): number => (typeof override[name] === 'number' ? override[name]! : base[name]);
  return {
    driftFactor: pick('driftFactor'),
    retryCount: pick('retryCount'),
    retryDelay: pick('retryDelay'),
    retryJitter: pick('retryJitter'),
    automaticExtensionThreshold: pick('automaticExtensionThreshold'),
  };
}

/** redlock's clock-drift allowance for a lock of `durationMs`. */
export function driftMs(settings: Settings, durationMs: number): number {
  return Math.round(settings.driftFactor * durationMs) + 2;
}

/** Whole seconds of lease TTL covering `durationMs` (at least 1; etcd raises it to its minimum TTL). */
export function leaseTtlSeconds(durationMs: number): number {
  return Math.max(1, Math.ceil(durationMs / 1000));
}

export function assertIntegerDuration(durationMs: number): void {
  if (Math.floor(durationMs) !== durationMs) {
    throw new Error('Duration must be an integer value in milliseconds.');
  }
}
