import type { MemberPort, RequestContext, ResponseHeader } from '../api/member-port';
import type { Logger } from '../log';
import { firstCreatedRange, queueKey, queuePrefix, singleKeyRange } from './keys';
import { cleanupContext, requestCanceled } from './request-errors';
import { sessionLease } from './session-lease';
import { createRevisionIs, deleteKeyRequest, putOp, rangeKvsAt, rangeOp } from './txn-ops';
import { waitDeletes } from './wait-deletes';

/** A held lock. `createRevision` is the fencing token: it only grows from holder to holder. */
export interface HeldLock {
  /** Header of the acquiring txn (fast path) or of the Range that found no predecessor. */
  header: ResponseHeader;
  /** `<name>/<lease hex>`: what Unlock takes. */
  key: Buffer;
  createRevision: bigint;
  lease: bigint;
}

/**
 * The server side of v3lock, Go's concurrency.Mutex run against the member itself:
 * one txn enqueues the lease's key (or finds it already there: re-entrant for the same
 * lease) and reads the holder; if someone else holds it, wait until every older key is gone.
 * A wait that fails (client canceled, deadline, lost watch) deletes the key again.
 */
export class ServerMutex {
  private readonly logger: Logger;

  constructor(
    private readonly member: MemberPort,
    logger: Logger,
  ) {
    this.logger = logger.child({ component: 'mutex' });
  }

  async lock(name: Buffer, requestedLease: bigint, ctx: RequestContext): Promise<HeldLock> {
    const lease = await sessionLease(this.member, requestedLease, ctx);
    const prefix = queuePrefix(name);
    const key = queueKey(prefix, lease);
    const owner = rangeOp(firstCreatedRange(prefix));
    const txn = await this.member.kv.txn(
      {
        compare: [createRevisionIs(key, 0n)],
        success: [putOp(key, Buffer.alloc(0), lease), owner],
        failure: [rangeOp(singleKeyRange(key)), owner],
      },
      ctx,
    );
    const created = txn.result.succeeded;
    // Failure path: the lease already queued this key (re-entrant); its position is kept.
    const createRevision = created ? txn.header.revision : rangeKvsAt(txn.result, 0)[0]?.createRevision;
    if (createRevision === undefined) throw new Error('lock txn failed its compare but its key is missing');
    const holder = rangeKvsAt(txn.result, 1)[0];
    if (holder === undefined || holder.createRevision === createRevision) {
      if (ctx.signal.aborted && created) {
        // Nobody will learn of this lock: release it rather than leave it until the lease expires.
        await this.unlockQuietly(key, ctx);
        throw requestCanceled();
      }
      return { header: txn.header, key, createRevision, lease };
    }
    this.logger.debug({ key: key.toString(), createRevision, holder: holder.key.toString() }, 'waiting for the lock');
    try {
      const header = await waitDeletes(this.member, prefix, createRevision - 1n, ctx);
      return { header, key, createRevision, lease };
    } catch (err) {
      await this.unlockQuietly(key, ctx);
      throw err;
    }
  }

  /** Deletes the lock key; a missing key is not an error (Go: Delete(key)). */
  async unlock(key: Buffer, ctx: RequestContext): Promise<ResponseHeader> {
    const answer = await this.member.kv.deleteRange(deleteKeyRequest(key), ctx);
    return answer.header;
  }

  private async unlockQuietly(key: Buffer, ctx: RequestContext): Promise<void> {
    try {
      await this.unlock(key, cleanupContext(ctx));
    } catch (err) {
      // The key still goes when its lease expires.
      this.logger.warn({ key: key.toString(), err }, 'could not delete an abandoned lock key');
    }
  }
}
