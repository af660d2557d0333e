import { EtcdError, Errors } from '../errors';
import type { Logger } from '../log';
import type { Lessor } from '../lease/lessor';
import type { MvccStore, StoreWriter } from '../storage/mvcc';
import type { WriteOutcome } from '../storage/mvcc/types';
import type { Proposal, RequestEnvelope } from './proposal';
import { encodeMembers, type Membership } from './membership';
import { MEMBERS_META } from './storage-layout';
import { ActiveAlarms, ALARMS_META, decodeAlarms, encodeAlarms } from './alarms';
import { growsDatabase } from './quota';
import { AlarmAction, AlarmType, type AlarmMember } from '../api/member-port';
import { authStoreOf, type AuthStore } from '../auth/auth-store';

export type ApplyValue = unknown;

/** What the proposer of a request is told once its entry is applied. */
export type ApplyOutcome =
  | { ok: true; revision: bigint; value: ApplyValue }
  | { ok: false; error: EtcdError };

export interface AppliedRequest {
  requestId: bigint;
  outcome: ApplyOutcome;
}

/** A committed entry's payload, decoded; `undefined` for empty (leader no-op) entries. */
export interface CommittedRequest {
  index: bigint;
  envelope: RequestEnvelope | undefined;
}

export interface ApplyBatchResult {
  applied: AppliedRequest[];
  writes: WriteOutcome[];
  /** Set when a compaction was applied in this batch. */
  compactedRevision: bigint | undefined;
}

/**
 * Applies committed requests to the MVCC store and the lessor: one LMDB write transaction
 * per batch, with the consistent index recorded in it, so a replay after a crash skips what
 * LMDB already holds. A request that fails (lease not found, compacted, ...) changes nothing
 * and its error goes back to its proposer; every member reaches the same verdict.
 */
export class Applier {
  constructor(
    private readonly store: MvccStore,
    private readonly lessor: Lessor,
    private readonly membership: Membership,
    private readonly clockMs: () => number,
    private readonly logger: Logger,
    /** Applied alarms (etcd's alarm store), loaded from LMDB meta; changed only by applied alarm requests. */
    readonly alarms: ActiveAlarms = new ActiveAlarms(decodeAlarms(store.getMeta(ALARMS_META))),
    /** Users, roles and tokens: the one attached to `store` by the composition root (or a default one). */
    readonly auth: AuthStore = authStoreOf(store, logger),
  ) {}

  /**
   * Whether applying `requests` again after an aborted commit gives the same result: true when
   * every request only writes the store (whose transaction was rolled back) and the lessor's
   * key sets (idempotent). Lease grants and revokes, auth, alarms and membership change state
   * outside the store inside the transaction, so a batch with any of them is not retried.
   */
  static isRetrySafe(requests: readonly CommittedRequest[]): boolean {
    return requests.every((request) => {
      const kind = request.envelope?.proposal.kind;
      return kind === undefined || kind === 'put' || kind === 'deleteRange' || kind === 'txn' || kind === 'compaction';
    });
  }

  /** `alsoWrite` runs in the same LMDB transaction (membership records of applied conf changes). */
  applyBatch(requests: readonly CommittedRequest[], lastIndex: bigint, alsoWrite?: (writer: StoreWriter) => void): ApplyBatchResult {
    const result: ApplyBatchResult = { applied: [], writes: [], compactedRevision: undefined };
    // Reloads the auth state first if a snapshot install replaced the data since the last batch.
    this.auth.current();
    const skipUpTo = this.store.consistentIndex();
    if (lastIndex <= skipUpTo) return result;
    this.store.write((writer) => {
      for (const request of requests) {
        if (request.index <= skipUpTo || request.envelope === undefined) continue;
        const outcome = this.applyOne(writer, request.envelope, result, request.index);
        result.applied.push({ requestId: request.envelope.requestId, outcome });
      }
      alsoWrite?.(writer);
      writer.setConsistentIndex(lastIndex);
    });
    this.auth.noteApplied();
    return result;
  }

  private applyOne(writer: StoreWriter, envelope: RequestEnvelope, batch: ApplyBatchResult, index: bigint): ApplyOutcome {
    const proposal = envelope.proposal;
    try {
      // etcd's authApplierV3: a write checked against permissions older than the auth store
      // now is refused, so a revoke applied in between cannot be slipped past; the client
      // re-authenticates and retries. Every member decides alike (the state is replicated).
      if (envelope.actor !== undefined && this.auth.enabled() && envelope.actor.authRevision < this.auth.revision()) {
        throw Errors.authOldRevision();
      }
      return { ok: true, ...this.dispatch(writer, proposal, batch, index) };
    } catch (err) {
      if (err instanceof EtcdError) {
        this.logger.debug({ kind: proposal.kind, error: err.message }, 'request refused at apply');
        return { ok: false, error: err };
      }
      throw err;
    }
  }

  private dispatch(writer: StoreWriter, proposal: Proposal, batch: ApplyBatchResult, index: bigint): { revision: bigint; value: ApplyValue } {
    const leaseExists = (id: bigint): boolean => this.lessor.has(id);
    // etcd's capped applier: while NOSPACE is raised, nothing that grows the database applies.
    if (this.alarms.has(AlarmType.NOSPACE) && growsDatabase(proposal)) throw Errors.noSpace();
    switch (proposal.kind) {
      case 'put': {
        const { result, outcome } = writer.put(proposal.put, leaseExists);
        this.recordWrite(outcome, batch);
        return { revision: outcome.revision, value: result };
      }
      case 'deleteRange': {
        const { result, outcome } = writer.deleteRange(proposal.deleteRange);
        this.recordWrite(outcome, batch);
        return { revision: outcome.revision, value: result };
      }
      case 'txn': {
        const { result, outcome } = writer.txn(proposal.txn, leaseExists);
        this.recordWrite(outcome, batch);
        return { revision: outcome.revision, value: result };
      }
      case 'compaction': {
        writer.compact(proposal.compaction.revision);
        batch.compactedRevision = proposal.compaction.revision;
        return { revision: writer.currentRevision(), value: null };
      }
      case 'memberAttributes': {
        const { memberId, name, clientUrls } = proposal;
        this.membership.update({ id: memberId, name, clientUrls, peerUrls: [], isLearner: false });
        writer.putMeta(MEMBERS_META, encodeMembers(this.membership.list()));
        return { revision: writer.currentRevision(), value: null };
      }
      case 'alarm':
        return { revision: writer.currentRevision(), value: this.applyAlarm(writer, proposal) };
      // Auth changes never move the KV revision; Authenticate answers with its token.
      case 'auth':
        return { revision: writer.currentRevision(), value: this.auth.apply(proposal.request, proposal.actor, index, writer) };
      case 'leaseGrant':
        return this.grant(writer, proposal.leaseId, proposal.ttlSeconds);
      case 'leaseRevoke':
        return this.revoke(writer, proposal.leaseId, batch);
      case 'leaseCheckpoint': {
        for (const cp of proposal.checkpoints) {
          const lease = this.lessor.get(cp.leaseId);
          if (lease === undefined) continue;
          writer.putLease({ id: lease.id, ttlSeconds: lease.ttlSeconds, remainingSeconds: cp.remainingSeconds });
          this.lessor.checkpoint(lease.id, cp.remainingSeconds);
        }
        return { revision: writer.currentRevision(), value: null };
      }
    }
  }

  /** Answers with the alarms this request changed, as etcd's AlarmResponse does. */
  private applyAlarm(writer: StoreWriter, request: Extract<Proposal, { kind: 'alarm' }>): AlarmMember[] {
    const { action, memberId, alarm } = request;
    const changed =
      action === AlarmAction.ACTIVATE ? this.alarms.activate(memberId, alarm)
      : action === AlarmAction.DEACTIVATE ? this.alarms.deactivate(memberId, alarm)
      : false;
    if (!changed) return [];
    writer.putMeta(ALARMS_META, encodeAlarms(this.alarms.list()));
    this.logger.warn({ action: action === AlarmAction.ACTIVATE ? 'activate' : 'deactivate', memberId: memberId.toString(16), alarm }, 'alarm changed');
    return [{ memberId, alarm }];
  }

  private grant(writer: StoreWriter, leaseId: bigint, ttlSeconds: bigint): { revision: bigint; value: ApplyValue } {
    if (this.lessor.has(leaseId)) throw Errors.leaseExists();
    const lease = this.lessor.grant(leaseId, ttlSeconds, this.clockMs());
    writer.putLease({ id: leaseId, ttlSeconds: lease.ttlSeconds, remainingSeconds: 0n });
    return { revision: writer.currentRevision(), value: { id: leaseId, ttlSeconds: lease.ttlSeconds } };
  }

  /** Revoking deletes every attached key in one revision, then the lease itself. */
  private revoke(writer: StoreWriter, leaseId: bigint, batch: ApplyBatchResult): { revision: bigint; value: ApplyValue } {
    if (!this.lessor.has(leaseId)) throw Errors.leaseNotFound();
    const keys = this.lessor.keysOf(leaseId);
    const outcome = keys.length > 0 ? writer.deleteKeys(keys) : undefined;
    if (outcome !== undefined) this.recordWrite(outcome, batch);
    writer.deleteLease(leaseId);
    this.lessor.revoke(leaseId);
    return { revision: outcome?.revision ?? writer.currentRevision(), value: null };
  }

  /** The lessor must see a write at once: a later request in the same batch may revoke. */
  private recordWrite(outcome: WriteOutcome, batch: ApplyBatchResult): void {
    if (outcome.events.length === 0) return;
    this.lessor.observe(outcome.events);
    batch.writes.push(outcome);
  }
}
