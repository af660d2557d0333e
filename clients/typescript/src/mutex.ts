import type { Client } from './client';
import { LockedError, LockLostError, SessionExpiredError } from './errors';
import type { Compare, ResponseHeader, TxnResult } from './kv';
import type { Session } from './session';
import { abortReason, waitDeletes, waitSignal } from './wait-deletes';

export interface LockOptions {
  /** Abort the wait (rejects with AbortedError; the queued key is deleted). */
  signal?: AbortSignal;
  /** Give up after this long (rejects with TimeoutError; the queued key is deleted). */
  timeoutMs?: number;
}

/** The Go key of a session under a prefix: prefix + lease id in lowercase hex, no padding. */
export function sessionKey(prefix: string, leaseId: bigint): string {
  return `${prefix}${leaseId.toString(16)}`;
}

/**
 * A distributed mutex, byte-for-byte the Go clientv3/concurrency protocol, so it excludes
 * `etcdctl lock NAME` and is excluded by it. The holder's key is `NAME/<lease hex>`,
 * attached to the session lease; waiters queue by create revision and each watches only
 * its predecessor. The key's create revision is the fencing token: strictly increasing
 * from one holder to the next.
 */
export class Mutex {
  private readonly prefix: string;
  private myKey = '';
  private myRev = -1n;
  private lastHeader: ResponseHeader | undefined;

  constructor(
    readonly session: Session,
    readonly name: string,
  ) {
    this.prefix = `${name}/`;
  }

  private get client(): Client {
    return this.session.client;
  }

  /** The lock key (`NAME/<lease hex>`); empty before the first lock attempt. */
  get key(): string {
    return this.myKey;
  }

  /** Create revision of the holder key; valid only while the lock is held. */
  get fencingToken(): bigint {
    if (this.myRev <= 0n) throw new Error('Mutex.fencingToken: the lock is not held');
    return this.myRev;
  }

  /** Header of the call that acquired the lock. */
  get header(): ResponseHeader | undefined {
    return this.lastHeader;
  }

  /** A Txn guard that holds only while this mutex still owns the lock. */
  isOwner(): Compare {
    return { key: this.myKey, target: 'create', result: '=', value: this.myRev };
  }

  /**
   * Waits until the lock is held. On abort, timeout or session loss, deletes its own queued
   * key and rejects (AbortedError / TimeoutError / SessionExpiredError).
   */
  async lock(options: LockOptions = {}): Promise<void> {
    const wait = waitSignal(this.session, options);
    try {
      if (wait.signal.aborted) throw abortReason(wait.signal);
      const acquired = await this.tryAcquire();
      if (this.ownsFirst(acquired)) {
        this.lastHeader = acquired.header;
        return;
      }
      try {
        this.lastHeader = await waitDeletes(this.client, this.prefix, this.myRev - 1n, wait.signal);
      } catch (error) {
        await this.unlock();
        throw error;
      }
      await this.assertStillQueued();
    } finally {
      wait.dispose();
    }
  }

  /** Takes the lock if it is free right now; otherwise removes its key and returns false. */
  async tryLock(): Promise<boolean> {
    if (this.session.isExpired) throw new SessionExpiredError();
    const acquired = await this.tryAcquire();
    if (this.ownsFirst(acquired)) {
      this.lastHeader = acquired.header;
      return true;
    }
    await this.client.kv.delete(this.myKey);
    this.myKey = '';
    this.myRev = -1n;
    return false;
  }

  /** Like tryLock, but throws LockedError (Go: ErrLocked) when held by another session. */
  async tryLockOrThrow(): Promise<void> {
    if (!(await this.tryLock())) throw new LockedError(this.name);
  }

  /** Releases the lock (or leaves the queue): deletes the key. */
  async unlock(): Promise<void> {
    if (this.myKey === '') return;
    await this.client.kv.delete(this.myKey);
    this.myKey = '';
    this.myRev = -1n;
  }

  /**
   * One Txn: create NAME/<lease> with the session lease unless it exists (then it is ours:
   * re-entrant for the same session), and read the first-created key under the prefix.
   */
  private async tryAcquire(): Promise<TxnResult> {
    const leaseId = this.session.leaseId;
    this.myKey = sessionKey(this.prefix, leaseId);
    const owner = { range: { key: this.prefix, prefix: true, sortTarget: 'create', sortOrder: 'ascend', limit: 1 } } as const;
    const result = await this.client.kv.txn({
      compare: [{ key: this.myKey, target: 'create', result: '=', value: 0n }],
      success: [{ put: { key: this.myKey, value: '', lease: leaseId } }, owner],
      failure: [{ range: { key: this.myKey } }, owner],
    });
    this.myRev = result.header.revision;
    if (!result.succeeded) {
      const mine = result.responses[0]?.range?.kvs[0];
      if (mine === undefined) throw new Error('Mutex: txn failed but our key is missing');
      this.myRev = mine.createRevision;
    }
    return result;
  }

  private ownsFirst(acquired: TxnResult): boolean {
    const first = acquired.responses[1]?.range?.kvs[0];
    return first === undefined || first.createRevision === this.myRev;
  }

  /** After waiting: our key must still be there (the session may have expired meanwhile). */
  private async assertStillQueued(): Promise<void> {
    const mine = await this.client.kv.get(this.myKey);
    if (mine === undefined || mine.createRevision !== this.myRev) {
      const key = this.myKey;
      this.myKey = '';
      this.myRev = -1n;
      throw new LockLostError(key);
    }
  }
}
