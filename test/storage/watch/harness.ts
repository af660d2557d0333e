import { silentLogger } from '../../../src/log';
import type { WriteOutcome } from '../../../src/storage/mvcc/types';
import { WatchHub, type WatchHubOptions } from '../../../src/storage/mvcc/watch';
import type { WatchCreateRequest, WatchResponse } from '../../../src/storage/mvcc/watch/types';
import { FakeHistory } from './fake-history';

/** Collects one stream's responses and lets a test await the one it expects. */
export class Recorder {
  readonly responses: WatchResponse[] = [];
  private waiters: Array<{ match: (r: WatchResponse) => boolean; resolve: (r: WatchResponse) => void }> = [];

  readonly sink = (response: WatchResponse): void => {
    this.responses.push(response);
    const ready = this.waiters.filter((w) => w.match(response));
    this.waiters = this.waiters.filter((w) => !w.match(response));
    for (const waiter of ready) waiter.resolve(response);
  };

  /** Resolves with the first response (already received or future) that matches. */
  next(match: (r: WatchResponse) => boolean): Promise<WatchResponse> {
    const seen = this.responses.find(match);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve) => this.waiters.push({ match, resolve }));
  }

  /** Every event delivered to `watchId`, in arrival order. */
  eventsOf(watchId: bigint): WatchResponse['events'] {
    return this.responses.filter((r) => r.watchId === watchId).flatMap((r) => r.events);
  }

  ofWatcher(watchId: bigint): WatchResponse[] {
    return this.responses.filter((r) => r.watchId === watchId);
  }

  clear(): void {
    this.responses.length = 0;
  }
}

export function createRequest(key: string, overrides: Partial<WatchCreateRequest> = {}): WatchCreateRequest {
  return {
    key: Buffer.from(key),
    rangeEnd: Buffer.alloc(0),
    startRevision: 0n,
    progressNotify: false,
    filters: [],
    prevKv: false,
    watchId: 0n,
    fragment: false,
    ...overrides,
  };
}

export function prefixEnd(prefix: string): Buffer {
  const end = Buffer.from(prefix);
  for (let i = end.length - 1; i >= 0; i--) {
    if (end[i]! < 0xff) {
      end[i]! += 1;
      return end.subarray(0, i + 1);
    }
  }
  return Buffer.from([0]);
}

export interface Fixture {
  history: FakeHistory;
  hub: WatchHub;
  /** Applies writes to the fake store, then tells the hub, as the member's apply loop does. */
  apply(...outcomes: WriteOutcome[]): void;
}

export function fixture(options: Partial<WatchHubOptions> = {}): Fixture {
  const history = new FakeHistory();
  const hub = new WatchHub({ history, logger: silentLogger(), progressIntervalMs: 600_000, ...options });
  return { history, hub, apply: (...outcomes) => hub.notify(outcomes) };
}

export function keyOf(event: WatchResponse['events'][number]): string {
  return event.kv.key.toString();
}

/** Resolves after pending setImmediate callbacks (one catch-up pass) have run. */
export function afterImmediate(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
