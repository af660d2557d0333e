import { status as GrpcStatus } from '@grpc/grpc-js';
import { PeerCallError } from './unary-call';

/**
 * Forwards lease keepalives from a follower to the leader in batches. A peer unary call costs
 * far more CPU than renewing a lease, and a busy follower forwards thousands a second; so
 * while one batch is on the wire the next ones gather, and each call carries up to
 * MAX_BATCH lease ids (one message: repeated uint64 in, repeated int64 TTLs out).
 *
 * Each caller still sees its own call: its abort rejects only its promise (CANCELLED), and a
 * failed batch rejects every caller in it with that batch's error.
 */

export const MAX_KEEPALIVE_BATCH = 1024;
/** Batches in flight per leader: one, so the rest gather into the next batch. */
const MAX_IN_FLIGHT = 1;

interface Waiter {
  leaseId: bigint;
  resolve: (ttl: bigint) => void;
  reject: (err: unknown) => void;
  signal: AbortSignal;
  onAbort: () => void;
  settled: boolean;
}

export type SendKeepAliveBatch = (leader: bigint, leaseIds: bigint[]) => Promise<bigint[]>;

export class KeepAliveBatcher {
  private readonly queues = new Map<bigint, Waiter[]>();
  private readonly inFlight = new Map<bigint, number>();

  constructor(private readonly send: SendKeepAliveBatch) {}

  forward(leader: bigint, leaseId: bigint, signal: AbortSignal): Promise<bigint> {
    if (signal.aborted) return Promise.reject(new PeerCallError('peer call aborted', GrpcStatus.CANCELLED));
    return new Promise<bigint>((resolve, reject) => {
      const waiter: Waiter = { leaseId, resolve, reject, signal, onAbort: () => undefined, settled: false };
      waiter.onAbort = () => this.settle(waiter, () => reject(new PeerCallError('peer call aborted', GrpcStatus.CANCELLED)));
      signal.addEventListener('abort', waiter.onAbort, { once: true });
      const queue = this.queues.get(leader);
      if (queue === undefined) this.queues.set(leader, [waiter]);
      else queue.push(waiter);
      this.pump(leader);
    });
  }

  private pump(leader: bigint): void {
    const running = this.inFlight.get(leader) ?? 0;
    if (running >= MAX_IN_FLIGHT) return;
    const queue = this.queues.get(leader);
    if (queue === undefined) return;
    const batch = queue.splice(0, MAX_KEEPALIVE_BATCH).filter((w) => !w.settled);
    if (queue.length === 0) this.queues.delete(leader);
    if (batch.length === 0) return;
    this.inFlight.set(leader, running + 1);
    // The next batch leaves before this one's callers are answered, so it never waits on them.
    const done = (): void => {
      const left = (this.inFlight.get(leader) ?? 1) - 1;
      if (left === 0) this.inFlight.delete(leader);
      else this.inFlight.set(leader, left);
      this.pump(leader);
    };
    this.send(leader, batch.map((w) => w.leaseId)).then(
      (ttls) => {
        done();
        if (ttls.length !== batch.length) {
          const err = new PeerCallError(`leader answered ${ttls.length} keepalives for ${batch.length}`, GrpcStatus.INTERNAL);
          for (const w of batch) this.settle(w, () => w.reject(err));
          return;
        }
        batch.forEach((w, i) => this.settle(w, () => w.resolve(ttls[i]!)));
      },
      (err: unknown) => {
        done();
        for (const w of batch) this.settle(w, () => w.reject(err));
      },
    );
  }

  private settle(waiter: Waiter, action: () => void): void {
    if (waiter.settled) return;
    waiter.settled = true;
    waiter.signal.removeEventListener('abort', waiter.onAbort);
    action();
  }
}
