import type { EtcdError } from '../errors';

interface Waiter {
  resolve: () => void;
  reject: (error: EtcdError) => void;
  /** When this reader gives up with "request timed out". */
  deadlineMs: number;
}

interface Round {
  waiters: Waiter[];
  timer: NodeJS.Timeout;
}

/**
 * Linearizable reads by ReadIndex, batched: every read that arrives while a round is in
 * flight joins the next round, so one leader confirmation serves them all. A round's
 * readers proceed once this member has applied up to the index the leader confirmed.
 *
 * A round can be lost (a message dropped, a leader that died); after `retryMs` its
 * readers join a new round, until each reader's own deadline passes.
 */
export class LinearizableReads {
  private queued: Waiter[] = [];
  private inFlight = new Map<string, Round>();
  /** Confirmed rounds waiting for apply, in ascending index order. */
  private confirmed: Array<{ index: bigint; waiters: Waiter[] }> = [];
  private roundCounter = 0n;
  private flushScheduled = false;

  constructor(
    private readonly requestReadIndex: (context: Uint8Array) => void,
    private readonly appliedIndex: () => bigint,
    private readonly timeoutMs: number,
    private readonly retryMs: number,
    private readonly onTimeout: () => EtcdError,
    private readonly nowMs: () => number = Date.now,
  ) {}

  /** Resolves when a read now would see every write acknowledged before this call. */
  wait(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.queued.push({ resolve, reject, deadlineMs: this.nowMs() + this.timeoutMs });
      if (!this.flushScheduled && this.inFlight.size === 0) {
        this.flushScheduled = true;
        setImmediate(() => this.startRound());
      }
    });
  }

  private startRound(): void {
    this.flushScheduled = false;
    if (this.queued.length === 0 || this.inFlight.size > 0) return;
    const now = this.nowMs();
    const waiters = this.queued.filter((w) => {
      if (w.deadlineMs > now) return true;
      w.reject(this.onTimeout());
      return false;
    });
    this.queued = [];
    if (waiters.length === 0) return;
    this.roundCounter += 1n;
    const context = Buffer.alloc(8);
    context.writeBigUInt64BE(this.roundCounter);
    const key = context.toString('hex');
    const timer = setTimeout(() => {
      // Lost round: its readers try again in the next one (each until its own deadline).
      this.inFlight.delete(key);
      this.queued.push(...waiters);
      this.startRound();
    }, this.retryMs);
    this.inFlight.set(key, { waiters, timer });
    this.requestReadIndex(context);
  }

  /** The Raft core confirmed a round: its readers may go once `index` is applied. */
  onReadState(index: bigint, context: Uint8Array): void {
    const key = Buffer.from(context).toString('hex');
    const round = this.inFlight.get(key);
    if (round === undefined) return;
    this.inFlight.delete(key);
    clearTimeout(round.timer);
    this.confirmed.push({ index, waiters: round.waiters });
    this.confirmed.sort((a, b) => (a.index < b.index ? -1 : a.index > b.index ? 1 : 0));
    this.onApplied();
    this.startRound();
  }

  onApplied(): void {
    const applied = this.appliedIndex();
    while (this.confirmed.length > 0 && this.confirmed[0]!.index <= applied) {
      for (const w of this.confirmed.shift()!.waiters) w.resolve();
    }
  }

  /**
   * A new leader is known: rounds sent to the old one will never be answered (it may be
   * dead), so their readers join a fresh round that goes to the new leader.
   */
  retryInFlight(): void {
    if (this.inFlight.size === 0) return;
    for (const round of this.inFlight.values()) {
      clearTimeout(round.timer);
      this.queued.push(...round.waiters);
    }
    this.inFlight.clear();
    this.startRound();
  }

  /** Leadership was lost or the member stops: nobody may read on a stale promise. */
  failAll(makeError: () => EtcdError): void {
    for (const round of this.inFlight.values()) {
      clearTimeout(round.timer);
      for (const w of round.waiters) w.reject(makeError());
    }
    this.inFlight.clear();
    for (const c of this.confirmed) for (const w of c.waiters) w.reject(makeError());
    this.confirmed = [];
    for (const w of this.queued) w.reject(makeError());
    this.queued = [];
  }
}
