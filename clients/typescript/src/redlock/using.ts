import type { Lock } from './lock';
import type { RedlockAbortSignal, Settings } from './settings';

/**
 * redlock's routine gets the abort signal; latchkey also passes the lock, whose fencing
 * tokens (and `fencedPut`) stay valid across automatic extensions.
 */
export type UsingRoutine<T> = (signal: RedlockAbortSignal, lock: Lock) => Promise<T>;

/**
 * redlock's `using`: run `routine` while the lock is extended automatically
 * `automaticExtensionThreshold` ms before each expiration. If an extension fails (the lease
 * lapsed, the lock was taken away, the cluster cannot be reached) and the lock has expired,
 * the signal is aborted with the error at `signal.error`. The lock is released at the end.
 */
export async function runUsing<T>(
  initial: Lock,
  durationMs: number,
  settings: Settings,
  routine: UsingRoutine<T>,
): Promise<T> {
  const controller = new AbortController();
  const signal = controller.signal as RedlockAbortSignal;
  let lock = initial;
  let timeout: NodeJS.Timeout | undefined;
  let extension: Promise<void> | undefined;

  const queue = (): void => {
    timeout = setTimeout(() => (extension = extend()), lock.expiration - Date.now() - settings.automaticExtensionThreshold);
  };
  const extend = async (): Promise<void> => {
    timeout = undefined;
    // Bounded: each retry happens only while the lock is still valid, and runAttempts is bounded.
    while (!controller.signal.aborted) {
      try {
        lock = await lock.extend(durationMs);
        queue();
        return;
      } catch (thrown) {
        if (lock.expiration > Date.now()) {
          // Still valid: try again (redlock does too), but without spinning on the cluster.
          await new Promise((resolve) => setTimeout(resolve, Math.min(settings.retryDelay, Math.max(0, lock.expiration - Date.now()))));
          continue;
        }
        signal.error = thrown instanceof Error ? thrown : new Error(String(thrown));
        controller.abort();
      }
    }
  };

  queue();
  try {
    return await routine(signal, initial);
  } finally {
    if (timeout !== undefined) clearTimeout(timeout);
    if (extension !== undefined) await extension.catch(() => undefined);
    await lock.release();
  }
}
