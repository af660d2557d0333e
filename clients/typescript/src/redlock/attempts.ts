import type { EtcdRpc } from './etcd-rpc';
import { ExecutionError } from './errors';
import type { ExecutionStats, Settings } from './settings';

/**
 * redlock's retry loop: up to retryCount + 1 attempts (forever for -1), waiting
 * retryDelay ± retryJitter ms between them; every failed attempt's error is reported through
 * `onError` (redlock emits it as an 'error' event). Each attempt yields one stats record.
 */

/** A bound on "retry forever" (retryCount -1) so that no loop is unbounded. */
const MAX_ATTEMPTS_FOREVER = 1_000_000;

export interface AttemptOutcome<T> {
  value: T;
  attempts: ReadonlyArray<Promise<ExecutionStats>>;
}

function statsOf(client: EtcdRpc, error: Error | undefined): ExecutionStats {
  const votesFor = new Set<EtcdRpc>();
  const votesAgainst = new Map<EtcdRpc, Error>();
  if (error === undefined) votesFor.add(client);
  else votesAgainst.set(client, error);
  return { membershipSize: 1, quorumSize: 1, votesFor, votesAgainst };
}

function retryPauseMs(settings: Settings): number {
  return Math.max(0, settings.retryDelay + Math.floor((Math.random() * 2 - 1) * settings.retryJitter));
}

export async function runAttempts<T>(
  client: EtcdRpc,
  settings: Settings,
  attempt: () => Promise<T>,
  onError: (error: Error) => void,
): Promise<AttemptOutcome<T>> {
  const maxAttempts = settings.retryCount === -1 ? MAX_ATTEMPTS_FOREVER : settings.retryCount + 1;
  const attempts: Promise<ExecutionStats>[] = [];
  for (;;) {
    try {
      const value = await attempt();
      attempts.push(Promise.resolve(statsOf(client, undefined)));
      return { value, attempts };
    } catch (thrown) {
      const error = thrown instanceof Error ? thrown : new Error(String(thrown));
      attempts.push(Promise.resolve(statsOf(client, error)));
      onError(error);
    }
    if (attempts.length >= maxAttempts) {
      throw new ExecutionError('The operation was unable to achieve a quorum during its retry window.', attempts);
    }
    await new Promise((resolve) => setTimeout(resolve, retryPauseMs(settings)));
  }
}
