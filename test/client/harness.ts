import { once } from 'node:events';
import { Client, ClientOptions } from '../../clients/typescript/src';
import { compatTargets } from '../compat/targets';

/**
 * Shared helpers for the latchkey-client suites. Every suite runs against real etcd (to
 * prove the expectations) and latchkey; LATCHKEY_COMPAT_SERVERS narrows the list.
 */
export const clientTargets = compatTargets;

/** Short retry delays: tests restart servers and want the client back quickly. */
export function newClient(endpoints: string[], options: Partial<ClientOptions> = {}): Client {
  return new Client({ endpoints, callTimeoutMs: 5_000, retryBaseDelayMs: 50, retryMaxDelayMs: 500, ...options });
}

/** Resolves with the first emission of `event`, or rejects after `timeoutMs`. */
export async function nextEvent<T extends unknown[]>(emitter: NodeJS.EventEmitter, event: string, timeoutMs = 10_000): Promise<T> {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), timeoutMs);
  try {
    return (await once(emitter, event, { signal: abort.signal })) as T;
  } catch (error) {
    if (abort.signal.aborted) throw new Error(`no '${event}' event within ${timeoutMs} ms`);
    throw error;
  } finally {
    clearTimeout(timer);
  }
}

export { within } from '../support/within';

/** Polls `condition` (bounded) where no event can be awaited, e.g. another process's state. */
export async function waitFor(condition: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Settles in `ms`: only for letting wall-clock time pass (lease TTLs), never to await an event. */
export function elapse(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
