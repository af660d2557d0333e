import { Errors } from '../../errors';
import type { Logger } from '../../log';
import { compactHistory } from './compaction';
import type { KvView } from './kv-view';
import { executeRange } from './range-executor';
import { RequestScope } from './request-scope';
import { validateDeleteRange, validatePut, validateRange, validateTxn } from './request-validation';
import { uint64Bytes } from './revision';
import { blobMetaKey, MetaKey, type MvccDatabases } from './schema';
import { planTxn } from './txn-compare';
import type {
  DeleteRangeRequest,
  DeleteRangeResult,
  PutRequest,
  PutResult,
  RangeRequest,
  RangeResult,
  TxnRequest,
  TxnResult,
  WriteOutcome,
} from './types';
import { applyDeleteRange, applyPut, applyTxnPath, checkPathMidway, checkPut, checkTxnPath, type LeaseExists } from './write-ops';
import { encodeLease, type LeaseRecord } from './lease-record';

export interface StoreWriter {
  /** Each of put/deleteRange/txn/deleteKeys is ONE client request = at most one new revision. */
  put(req: PutRequest, leaseExists: LeaseExists): { result: PutResult; outcome: WriteOutcome };
  deleteRange(req: DeleteRangeRequest): { result: DeleteRangeResult; outcome: WriteOutcome };
  txn(req: TxnRequest, leaseExists: LeaseExists): { result: TxnResult; outcome: WriteOutcome };
  /** Deletes the given keys (a lease revoke) in one revision; missing keys ignored. */
  deleteKeys(keys: Buffer[]): WriteOutcome;
  /** Reads the state as written so far in this batch. */
  range(req: RangeRequest): RangeResult;
  compact(revision: bigint): void;
  putLease(record: LeaseRecord): void;
  deleteLease(id: bigint): void;
  putMeta(name: string, value: Buffer): void;
  setConsistentIndex(index: bigint): void;
  currentRevision(): bigint;
}

/** The counters the store keeps in memory and in meta; replaced only after a commit. */
export interface StoreCounters {
  currentRevision: bigint;
  /** etcd's compactMainRev: -1 until the first compaction. */
  compactMain: bigint;
  consistentIndex: bigint;
}

/**
 * Applies a batch of requests inside one LMDB write transaction (opened by MvccStore.write).
 *
 * Atomicity per request: every check that can fail runs before the request's first write, so
 * an EtcdError leaves the batch as it was and the caller may go on with the next request.
 * That includes the one txn shape whose failure only shows midway (checkPathMidway replays it
 * first).
 */
export class BatchWriter implements StoreWriter {
  private readonly counters: StoreCounters;
  private readonly initial: StoreCounters;

  constructor(
    private readonly dbs: MvccDatabases,
    private readonly view: KvView,
    counters: StoreCounters,
    private readonly maxTxnOps: number,
    private readonly logger: Logger,
  ) {
    this.initial = { ...counters };
    this.counters = { ...counters };
  }

  put(req: PutRequest, leaseExists: LeaseExists): { result: PutResult; outcome: WriteOutcome } {
    validatePut(req);
    // etcd's Put outside a txn checks the lease first, then the ignore_* key existence.
    if (req.lease !== 0n && !leaseExists(req.lease)) throw Errors.leaseNotFound();
    checkPut(this.view, req, leaseExists);
    const scope = this.beginRequest();
    const result = applyPut(scope, this.view, req);
    return { result, outcome: this.endRequest(scope) };
  }

  deleteRange(req: DeleteRangeRequest): { result: DeleteRangeResult; outcome: WriteOutcome } {
    validateDeleteRange(req);
    const scope = this.beginRequest();
    const result = applyDeleteRange(scope, req);
    return { result, outcome: this.endRequest(scope) };
  }

  txn(req: TxnRequest, leaseExists: LeaseExists): { result: TxnResult; outcome: WriteOutcome } {
    validateTxn(req, this.maxTxnOps);
    const plan = planTxn(this.view, req);
    const beginRevision = this.counters.currentRevision;
    checkTxnPath({ view: this.view, leaseExists, beginRevision, compactMain: this.counters.compactMain }, req, plan);
    checkPathMidway(this.view, req, plan);
    const scope = this.beginRequest();
    const result = applyTxnPath(scope, this.view, this.counters.compactMain, req, plan);
    return { result, outcome: this.endRequest(scope) };
  }

  deleteKeys(keys: Buffer[]): WriteOutcome {
    // Sorted and de-duplicated so every member deletes in the same order (as etcd's lessor).
    const sorted = [...keys].sort(Buffer.compare).filter((key, i, all) => i === 0 || !key.equals(all[i - 1]));
    const scope = this.beginRequest();
    for (const key of sorted) {
      const current = this.view.getLatest(key);
      if (current !== undefined) scope.delete(current);
    }
    return this.endRequest(scope);
  }

  range(req: RangeRequest): RangeResult {
    validateRange(req);
    return executeRange(this.view, req, { current: this.counters.currentRevision, compactMain: this.counters.compactMain });
  }

  compact(revision: bigint): void {
    if (revision <= this.counters.compactMain) throw Errors.compacted();
    if (revision > this.counters.currentRevision) throw Errors.futureRevision();
    const removed = compactHistory(this.dbs, revision);
    this.logger.info({ revision: revision.toString(), removedVersions: removed }, 'compacted history');
    this.counters.compactMain = revision;
    this.dbs.meta.putSync(MetaKey.compactedRevision, uint64Bytes(revision));
  }

  putLease(record: LeaseRecord): void {
    this.dbs.leases.putSync(uint64Bytes(record.id), encodeLease(record));
  }

  deleteLease(id: bigint): void {
    this.dbs.leases.removeSync(uint64Bytes(id));
  }

  putMeta(name: string, value: Buffer): void {
    this.dbs.meta.putSync(blobMetaKey(name), value);
  }

  setConsistentIndex(index: bigint): void {
    this.counters.consistentIndex = index;
  }

  currentRevision(): bigint {
    return this.counters.currentRevision;
  }

  /** Writes the changed counters into meta; call last, inside the transaction. */
  finishBatch(): StoreCounters {
    if (this.counters.currentRevision !== this.initial.currentRevision) {
      this.dbs.meta.putSync(MetaKey.currentRevision, uint64Bytes(this.counters.currentRevision));
    }
    if (this.counters.consistentIndex !== this.initial.consistentIndex) {
      this.dbs.meta.putSync(MetaKey.consistentIndex, uint64Bytes(this.counters.consistentIndex));
    }
    return { ...this.counters };
  }

  private beginRequest(): RequestScope {
    return new RequestScope(this.dbs, this.view, this.counters.currentRevision);
  }

  private endRequest(scope: RequestScope): WriteOutcome {
    if (scope.changed) this.counters.currentRevision = scope.writeRevision;
    return { revision: this.counters.currentRevision, events: scope.events };
  }
}
