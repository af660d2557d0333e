import type { Client } from './client';
import { AbortedError, NoElectionLeaderError, NotElectionLeaderError, SessionExpiredError } from './errors';
import { Bytes, KeyValue, ResponseHeader, toBuffer } from './kv';
import { sessionKey } from './mutex';
import type { Session } from './session';
import { abortReason, waitDeletes, waitSignal } from './wait-deletes';
import type { Watch, WatchEvent } from './watch';

export interface CampaignOptions {
  signal?: AbortSignal;
  timeoutMs?: number;
}

/**
 * Leader election, the Go clientv3/concurrency protocol (interoperates with `etcdctl elect`):
 * candidates put `NAME/<lease hex>` = value with their session lease and queue by create
 * revision; the first-created key is the leader.
 */
export class Election {
  private readonly prefix: string;
  private leaderKey = '';
  private leaderRev = -1n;
  private leading = false;
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

  /** Our candidate key; empty when not campaigning. */
  get key(): string {
    return this.leaderKey;
  }

  /** Create revision of our candidate key (-1n when not campaigning). */
  get revision(): bigint {
    return this.leaderRev;
  }

  get header(): ResponseHeader | undefined {
    return this.lastHeader;
  }

  /** Whether campaign() succeeded and resign() was not called (the lease may still be lost). */
  get isLeader(): boolean {
    return this.leading && !this.session.isExpired;
  }

  /**
   * Waits until elected. On abort or timeout the candidacy is resigned and the promise
   * rejects (AbortedError / TimeoutError); SessionExpiredError if the lease is lost.
   */
  async campaign(value: Bytes, options: CampaignOptions | AbortSignal = {}): Promise<void> {
    const wait = waitSignal(this.session, options instanceof AbortSignal ? { signal: options } : options);
    try {
      if (wait.signal.aborted) throw abortReason(wait.signal);
      const key = sessionKey(this.prefix, this.session.leaseId);
      const result = await this.client.kv.txn({
        compare: [{ key, target: 'create', result: '=', value: 0n }],
        success: [{ put: { key, value, lease: this.session.leaseId } }],
        failure: [{ range: { key } }],
      });
      this.leaderKey = key;
      this.leaderRev = result.header.revision;
      this.leading = true;
      if (!result.succeeded) {
        const existing = result.responses[0]?.range?.kvs[0];
        if (existing === undefined) throw new Error('Election: txn failed but our key is missing');
        this.leaderRev = existing.createRevision;
        if (!existing.value.equals(toBuffer(value))) await this.proclaimOrResign(value);
      }
      try {
        await waitDeletes(this.client, this.prefix, this.leaderRev - 1n, wait.signal);
      } catch (error) {
        if (wait.signal.aborted && !(error instanceof SessionExpiredError)) await this.resign();
        else this.leading = false;
        throw error;
      }
      this.lastHeader = result.header;
    } finally {
      wait.dispose();
    }
  }

  private async proclaimOrResign(value: Bytes): Promise<void> {
    try {
      await this.proclaim(value);
    } catch (error) {
      await this.resign();
      throw error;
    }
  }

  /** Sets a new leader value without a new election; NotElectionLeaderError if not leader. */
  async proclaim(value: Bytes): Promise<void> {
    if (!this.leading) throw new NotElectionLeaderError();
    const result = await this.client.kv.txn({
      compare: [{ key: this.leaderKey, target: 'create', result: '=', value: this.leaderRev }],
      success: [{ put: { key: this.leaderKey, value, lease: this.session.leaseId } }],
    });
    if (!result.succeeded) {
      this.leaderKey = '';
      this.leading = false;
      throw new NotElectionLeaderError();
    }
    this.lastHeader = result.header;
  }

  /** Gives up leadership (or the candidacy): deletes our key if it is still the one we made. */
  async resign(): Promise<void> {
    if (!this.leading) return;
    const result = await this.client.kv.txn({
      compare: [{ key: this.leaderKey, target: 'create', result: '=', value: this.leaderRev }],
      success: [{ deleteRange: { key: this.leaderKey } }],
    });
    this.lastHeader = result.header;
    this.leaderKey = '';
    this.leaderRev = -1n;
    this.leading = false;
  }

  /** The current leader's key and value; NoElectionLeaderError when there is none. */
  async leader(): Promise<KeyValue> {
    const first = await this.client.kv.range(this.prefix, { prefix: true, sortTarget: 'create', sortOrder: 'ascend', limit: 1 });
    const leader = first.kvs[0];
    if (leader === undefined) throw new NoElectionLeaderError();
    return leader;
  }

  /**
   * The leader now and every change after it (new leader, proclaimed value), as Go's
   * Election.Observe. Ends when `signal` aborts or the consumer stops iterating.
   */
  async *observe(signal?: AbortSignal): AsyncGenerator<KeyValue, void, undefined> {
    for (let round = 0; !signal?.aborted; round++) {
      const first = await this.client.kv.range(this.prefix, { prefix: true, sortTarget: 'create', sortOrder: 'ascend', limit: 1 });
      let leader = first.kvs[0];
      let fromRevision = first.header.revision;
      if (leader === undefined) {
        const put = await this.nextEvent(this.prefix, true, first.header.revision, (event) => event.type === 'put', signal);
        if (put === undefined) return;
        leader = put.kv;
        fromRevision = put.kv.modRevision;
      }
      yield leader;
      // Follow the leader key: every put is a proclaim; its delete ends this leadership.
      const watch = await this.client.watch(leader.key, { startRevision: fromRevision + 1n });
      const stop = (): void => void watch.cancel();
      signal?.addEventListener('abort', stop, { once: true });
    if (signal?.aborted) stop();
      try {
        for await (const event of watch) {
          if (event.type === 'delete') break;
          yield event.kv;
        }
      } finally {
        signal?.removeEventListener('abort', stop);
        await watch.cancel();
      }
    }
  }

  /** The first event on key/prefix from `fromRevision` matching `match`; undefined when aborted. */
  private async nextEvent(
    key: string,
    prefix: boolean,
    fromRevision: bigint,
    match: (event: WatchEvent) => boolean,
    signal: AbortSignal | undefined,
  ): Promise<WatchEvent | undefined> {
    const watch: Watch = await this.client.watch(key, { prefix, startRevision: fromRevision });
    const stop = (): void => void watch.cancel();
    signal?.addEventListener('abort', stop, { once: true });
    if (signal?.aborted) stop();
    try {
      for await (const event of watch) if (match(event)) return event;
      if (signal?.aborted) return undefined;
      throw watch.error ?? new AbortedError('watch ended');
    } finally {
      signal?.removeEventListener('abort', stop);
      await watch.cancel();
    }
  }
}
