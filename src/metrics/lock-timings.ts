import type { MemberMetrics } from './member-metrics';

/** Bound on locks tracked at once (held keys, recent releases); the oldest are dropped. */
export const MAX_TRACKED_LOCKS = 10_000;

function remember<K, V>(map: Map<K, V>, key: K, value: V): void {
  map.delete(key);
  map.set(key, value);
  if (map.size > MAX_TRACKED_LOCKS) map.delete(map.keys().next().value as K);
}

/** A lock's name is its key without the final `/<lease hex>`. */
function nameOf(key: string): string {
  const slash = key.lastIndexOf('/');
  return slash < 0 ? key : key.slice(0, slash);
}

/**
 * Lock timings for the v3lock service (latchkey_lock_*): waiters, hold time (lock to unlock),
 * handover (an unlock to the acquisition by a caller that was already waiting). Locks lost to
 * lease expiry are not seen here; their hold time is not recorded.
 */
export class LockTimings {
  private readonly heldSince = new Map<string, number>();
  private readonly releasedAt = new Map<string, number>();

  constructor(private readonly metrics: MemberMetrics, private readonly nowMs: () => number = () => performance.now()) {}

  /** A Lock call starts waiting; returns its start time and the function to call when it stops waiting. */
  startWaiting(): { startedAt: number; stop: () => void } {
    this.metrics.lockWaiters(1);
    let stopped = false;
    return {
      startedAt: this.nowMs(),
      stop: () => {
        if (stopped) return;
        stopped = true;
        this.metrics.lockWaiters(-1);
      },
    };
  }

  acquired(key: Buffer, startedAt: number): void {
    const k = key.toString('latin1');
    const now = this.nowMs();
    remember(this.heldSince, k, now);
    const released = this.releasedAt.get(nameOf(k));
    if (released !== undefined && released >= startedAt) this.metrics.lockHandover((now - released) / 1000);
  }

  released(key: Buffer): void {
    const k = key.toString('latin1');
    const now = this.nowMs();
    const since = this.heldSince.get(k);
    if (since !== undefined) {
      this.heldSince.delete(k);
      this.metrics.lockHeld((now - since) / 1000);
    }
    remember(this.releasedAt, nameOf(k), now);
  }
}
