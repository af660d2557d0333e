import type { MemberPort, RequestContext, ResponseHeader } from '../api/member-port';
import { Errors } from '../errors';
import type { Logger } from '../log';
import type { KeyValue } from '../storage/mvcc/types';
import { firstCreatedRange, queueKey, queuePrefix, singleKeyRange } from './keys';
import { observeLeader, type LeaderSink } from './observe-leader';
import { cleanupContext } from './request-errors';
import { sessionLease } from './session-lease';
import { createRevisionIs, deleteOp, putOp, rangeKvsAt, rangeOp } from './txn-ops';
import { waitDeletes } from './wait-deletes';

/** v3electionpb.LeaderKey: proof of leadership that Proclaim and Resign take back. */
export interface LeaderKey {
  name: Buffer;
  /** `<name>/<lease hex>` */
  key: Buffer;
  /** Create revision of `key` when it was elected: a fencing token, like a lock's. */
  rev: bigint;
  lease: bigint;
}

export interface Campaigned {
  /** Header of the campaign txn (etcd keeps it even when the campaign had to wait). */
  header: ResponseHeader;
  leader: LeaderKey;
}

export interface CurrentLeader {
  header: ResponseHeader;
  kv: KeyValue;
}

/**
 * The server side of v3election, Go's concurrency.Election run against the member itself.
 * Candidates queue under `<name>/` by create revision like lock waiters; the first-created
 * key is the leader and its value is the proclaimed value.
 */
export class ServerElection {
  private readonly logger: Logger;

  constructor(
    private readonly member: MemberPort,
    logger: Logger,
  ) {
    this.logger = logger.child({ component: 'election' });
  }

  /** Enqueues the lease's candidate key (or reuses it) and waits until it is the oldest. */
  async campaign(name: Buffer, requestedLease: bigint, value: Buffer, ctx: RequestContext): Promise<Campaigned> {
    const lease = await sessionLease(this.member, requestedLease, ctx);
    const prefix = queuePrefix(name);
    const key = queueKey(prefix, lease);
    const txn = await this.member.kv.txn(
      { compare: [createRevisionIs(key, 0n)], success: [putOp(key, value, lease)], failure: [rangeOp(singleKeyRange(key))] },
      ctx,
    );
    const leader: LeaderKey = { name, key, rev: txn.header.revision, lease };
    if (!txn.result.succeeded) {
      const existing = rangeKvsAt(txn.result, 0)[0];
      if (existing === undefined) throw new Error('campaign txn failed its compare but its key is missing');
      leader.rev = existing.createRevision;
      if (!existing.value.equals(value)) {
        try {
          await this.proclaim(leader, value, ctx);
        } catch (err) {
          await this.resignQuietly(leader, ctx);
          throw err;
        }
      }
    }
    try {
      await waitDeletes(this.member, prefix, leader.rev - 1n, ctx);
    } catch (err) {
      // Go resigns only when the caller gave up; after any other failure the key stays queued.
      if (ctx.signal.aborted) await this.resignQuietly(leader, ctx);
      throw err;
    }
    return { header: txn.header, leader };
  }

  /** Replaces the leader's value, if `leader` still is the leader key created at `rev`. */
  async proclaim(leader: LeaderKey, value: Buffer, ctx: RequestContext): Promise<ResponseHeader> {
    // As etcd's resumed session: lease 0 means a fresh orphaned 60 s lease.
    const lease = await sessionLease(this.member, leader.lease, ctx);
    const txn = await this.member.kv.txn(
      { compare: [createRevisionIs(leader.key, leader.rev)], success: [putOp(leader.key, value, lease)], failure: [] },
      ctx,
    );
    if (!txn.result.succeeded) throw Errors.electionNotLeader();
    return txn.header;
  }

  /** Deletes the leader key if it is still the one created at `rev`; succeeds either way. */
  async resign(leader: LeaderKey, ctx: RequestContext): Promise<ResponseHeader> {
    const txn = await this.member.kv.txn(
      { compare: [createRevisionIs(leader.key, leader.rev)], success: [deleteOp(leader.key)], failure: [] },
      ctx,
    );
    return txn.header;
  }

  /** The first-created key under `<name>/`; none → UNKNOWN "election: no leader". */
  async leader(name: Buffer, ctx: RequestContext): Promise<CurrentLeader> {
    const answer = await this.member.kv.range(firstCreatedRange(queuePrefix(name)), ctx);
    const kv = answer.result.kvs[0];
    if (kv === undefined) throw Errors.electionNoLeader();
    return { header: answer.header, kv };
  }

  /**
   * Streams the current leader, then each of its proclaims, then the next leader, … until
   * the client goes away (rejects) or the watch is lost (resolves: the stream ends).
   */
  observe(name: Buffer, ctx: RequestContext, sink: LeaderSink): Promise<void> {
    return observeLeader(this.member, queuePrefix(name), ctx, sink, this.logger);
  }

  private async resignQuietly(leader: LeaderKey, ctx: RequestContext): Promise<void> {
    try {
      await this.resign(leader, cleanupContext(ctx));
    } catch (err) {
      this.logger.warn({ key: leader.key.toString(), err }, 'could not withdraw a candidate key');
    }
  }
}
