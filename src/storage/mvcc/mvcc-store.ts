import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { TransactionFlags } from 'lmdb';
import type { Logger } from '../../log';
import { failpoint, FailpointError } from '../../failpoints';
import { eventsBetween } from './history-events';
import { hashKv, type HashKvResult } from './hash-kv';
import { KvView } from './kv-view';
import { decodeLease, type LeaseRecord } from './lease-record';
import { executeRange } from './range-executor';
import { RequestScope } from './request-scope';
import { DEFAULT_MAX_TXN_OPS, validateRange, validateTxn } from './request-validation';
import { readInt64 } from './revision';
import { blobMetaKey, MetaKey, openDatabases, type MvccDatabases } from './schema';
import { BatchWriter, type StoreCounters, type StoreWriter } from './store-writer';
import { bytesInUse, contentHash, copyDatabase, installDatabaseCopy, usedFileBytes } from './store-files';
import { upgradeLayout } from './layout-upgrade';
import { planTxn } from './txn-compare';
import type { Event, RangeRequest, RangeResult, TxnRequest, TxnResult } from './types';
import { applyTxnPath, checkTxnPath, isTxnReadOnly } from './write-ops';
import type { HistorySource } from './watch/types';

export interface MvccStoreOptions {
  logger: Logger;
  /** Initial LMDB map size; lmdb-js grows it on demand. */
  mapSizeBytes?: number;
  /** etcd --max-txn-ops (default 128). */
  maxTxnOps?: number;
}

/** A fresh store is at revision 1, like etcd. */
const FRESH_REVISION = 1n;
/** Abortable, committed before returning, never fsync'd on the event loop (see flushed()). */
const BATCH_TRANSACTION_FLAGS = TransactionFlags.ABORTABLE | TransactionFlags.SYNCHRONOUS_COMMIT | TransactionFlags.NO_SYNC_FLUSH;

/** LMDB's MDB_BAD_TXN. */
const MDB_BAD_TXN = -30782;

/**
 * Whether `err` is a commit LMDB refused in its free-list code, after which the transaction
 * is aborted and nothing of it is kept: lmdb-js 3.5.6 under sustained writes (upstream's open
 * free-list bugs) reports "MDB_BAD_TXN … reserved freelist had a data entry with zero-size".
 * The `storeCommit` failpoint's error stands in for it in tests.
 */
export function isRefusedCommit(err: unknown): boolean {
  if (err instanceof FailpointError) return err.failpoint === 'storeCommit';
  return err instanceof Error && (err as { code?: unknown }).code === MDB_BAD_TXN && err.message.includes('freelist');
}

/**
 * The revisioned KV state machine on LMDB (etcd's mvcc store). Reads are synchronous and see
 * committed state; writes go through write(), one LMDB transaction per batch of applied
 * entries, with the consistent index in the same transaction.
 */
export class MvccStore implements HistorySource {
  private view: KvView;
  private counters: StoreCounters;
  private closed = false;
  private lastDbSizeBytes = 0n;
  private writing = false;

  private constructor(
    private dbs: MvccDatabases,
    private readonly directory: string,
    private readonly logger: Logger,
    private readonly maxTxnOps: number,
    private readonly mapSizeBytes: number | undefined,
  ) {
    this.view = new KvView(dbs);
    this.counters = readCounters(dbs);
  }

  static open(directory: string, options: MvccStoreOptions): MvccStore {
    fs.mkdirSync(directory, { recursive: true });
    // The caller passes the component's child logger (bootstrap names it 'mvcc').
    const logger = options.logger;
    const store = new MvccStore(
      openStoreDatabases(directory, options.mapSizeBytes, logger),
      directory,
      logger,
      options.maxTxnOps ?? DEFAULT_MAX_TXN_OPS,
      options.mapSizeBytes,
    );
    logger.info(
      {
        directory,
        revision: store.counters.currentRevision.toString(),
        compactedRevision: store.compactedRevision().toString(),
        consistentIndex: store.counters.consistentIndex.toString(),
      },
      'mvcc store opened',
    );
    return store;
  }

  /** Places a file written by copyTo() as the database of `directory` (which must not be open). */
  static installCopy(file: string, directory: string): void {
    installDatabaseCopy(file, directory);
  }

  /**
   * Replaces the whole database with `file` (a copy made by copyTo() on another member: an
   * InstallSnapshot) and reopens in place, so everyone holding this store sees the new data.
   * No read or write may run until it resolves.
   */
  async restoreFrom(file: string): Promise<void> {
    this.assertReadable();
    await this.flushed();
    await this.reopenWith(() => installDatabaseCopy(file, this.directory));
    await this.flushed();
    this.logger.info(
      { revision: this.counters.currentRevision.toString(), consistentIndex: this.counters.consistentIndex.toString() },
      'mvcc store restored from a snapshot',
    );
  }

  currentRevision(): bigint {
    return this.counters.currentRevision;
  }

  compactedRevision(): bigint {
    return this.counters.compactMain < 0n ? 0n : this.counters.compactMain;
  }

  consistentIndex(): bigint {
    return this.counters.consistentIndex;
  }

  range(req: RangeRequest): RangeResult {
    this.assertReadable();
    validateRange(req);
    return executeRange(this.view, req, { current: this.counters.currentRevision, compactMain: this.counters.compactMain });
  }

  /**
   * A txn whose ops are all ranges (etcd serves these without Raft): evaluated against the
   * committed state, no revision change. Throws Error if the txn writes.
   */
  readTxn(req: TxnRequest): TxnResult {
    this.assertReadable();
    if (!isTxnReadOnly(req)) throw new Error('readTxn called with a txn that writes; propose it through Raft');
    validateTxn(req, this.maxTxnOps);
    const plan = planTxn(this.view, req);
    const { currentRevision, compactMain } = this.counters;
    checkTxnPath({ view: this.view, leaseExists: () => false, beginRevision: currentRevision, compactMain }, req, plan);
    const scope = new RequestScope(this.dbs, this.view, currentRevision);
    return applyTxnPath(scope, this.view, compactMain, req, plan);
  }

  /** Runs `apply` inside ONE LMDB write transaction; nothing is kept if it throws. */
  write<T>(apply: (writer: StoreWriter) => T): T {
    this.assertReadable();
    const writer = new BatchWriter(this.dbs, this.view, this.counters, this.maxTxnOps, this.logger);
    let next: StoreCounters | undefined;
    this.writing = true;
    try {
      const result = this.dbs.root.transactionSync(() => {
        const value = apply(writer);
        next = writer.finishBatch();
        failpoint('storeCommit');
        return value;
      }, BATCH_TRANSACTION_FLAGS);
      if (next === undefined) throw new Error('write transaction ended without finishing its batch');
      this.counters = next;
      return result;
    } finally {
      this.writing = false;
    }
  }

  /**
   * Closes and reopens the environment on the same files, dropping every bit of LMDB's
   * in-memory state (its free-page bookkeeping above all) and keeping what was committed.
   * No read or write may run until it resolves.
   */
  async reopen(): Promise<void> {
    this.assertReadable();
    await this.reopenWith(() => undefined);
    this.logger.info({ revision: this.counters.currentRevision.toString() }, 'mvcc store reopened');
  }

  /** Closes the environment, runs `whileClosed` on its files, and opens it again in place. */
  private async reopenWith(whileClosed: () => void): Promise<void> {
    this.closed = true;
    await this.dbs.root.close();
    whileClosed();
    this.dbs = openStoreDatabases(this.directory, this.mapSizeBytes, this.logger);
    this.view = new KvView(this.dbs);
    this.counters = readCounters(this.dbs);
    this.closed = false;
  }

  /** Every live key that carries a lease, for rebuilding the lessor's lease→keys map at start. */
  leasedKeys(): { key: Buffer; lease: bigint }[] {
    this.assertReadable();
    const leased: { key: Buffer; lease: bigint }[] = [];
    for (const { value: historyKey } of this.dbs.latest.getRange({})) {
      const kv = this.view.historyKeyValue(historyKey);
      if (kv.lease !== 0n) leased.push({ key: kv.key, lease: kv.lease });
    }
    return leased;
  }

  eventsBetween(fromRevision: bigint, toRevision: bigint, key: Buffer, rangeEnd: Buffer): Event[] {
    this.assertReadable();
    return eventsBetween(this.dbs, this.view, fromRevision, toRevision, key, rangeEnd);
  }

  hashKV(revision: bigint): HashKvResult {
    this.assertReadable();
    return hashKv(this.dbs, revision, this.counters.currentRevision, this.counters.compactMain);
  }

  /** crc32c over history, live keys, leases and meta blobs (not the consistent index). */
  hash(): number {
    this.assertReadable();
    return contentHash(this.dbs);
  }

  /** The used length of the data file; while the environment is closed (a reopen), the last one read. */
  dbSizeBytes(): bigint {
    if (!this.closed) this.lastDbSizeBytes = usedFileBytes(this.dbs);
    return this.lastDbSizeBytes;
  }

  dbSizeInUseBytes(): bigint {
    return bytesInUse(this.dbs);
  }

  listLeases(): LeaseRecord[] {
    this.assertReadable();
    const leases: LeaseRecord[] = [];
    for (const { key, value } of this.dbs.leases.getRange({})) leases.push(decodeLease(key, value));
    return leases;
  }

  getMeta(name: string): Buffer | undefined {
    this.assertReadable();
    const value = this.dbs.meta.get(blobMetaKey(name));
    return value === undefined ? undefined : Buffer.from(value);
  }

  /** Resolves once everything committed so far is on disk (fsync on a worker thread). */
  flushed(): Promise<void> {
    this.assertOpen();
    return new Promise((resolve, reject) => {
      const env = this.dbs.root as unknown as { sync(callback: (error?: Error) => void): void };
      env.sync((error) => (error ? reject(error) : resolve()));
    });
  }

  /** Entries in every database (history, index, live keys, meta, leases): `snapshot status` reports it. */
  entryCount(): number {
    this.assertReadable();
    let total = 0;
    for (const db of [this.dbs.history, this.dbs.keyIndex, this.dbs.latest, this.dbs.meta, this.dbs.leases]) {
      total += (db.getStats() as { entryCount: number }).entryCount;
    }
    return total;
  }

  /**
   * etcd's defragment: rewrites the database without its free pages and reopens it, so the
   * file shrinks. The caller must hold off writes until it resolves (a write during the
   * copy would be lost); reads may run until the brief reopen at the end.
   */
  async defragment(): Promise<void> {
    const file = path.join(path.dirname(this.directory), `.defrag-${process.pid}-${Date.now()}.mdb`);
    const before = this.dbSizeBytes();
    try {
      await this.copyTo(file);
      await this.restoreFrom(file);
    } finally {
      fs.rmSync(file, { force: true });
    }
    this.logger.info({ beforeBytes: before.toString(), afterBytes: this.dbSizeBytes().toString() }, 'defragmented');
  }

  /** Writes a consistent, compacted copy of the database to `file` (a single LMDB data file). */
  copyTo(file: string): Promise<void> {
    this.assertOpen();
    return copyDatabase(this.dbs, file);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.flushed();
    this.closed = true;
    await this.dbs.root.close();
    this.logger.info({ revision: this.counters.currentRevision.toString() }, 'mvcc store closed');
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('mvcc store is closed');
  }

  /** Reads through the store must not run inside write(): they would mix committed counters with uncommitted data. */
  private assertReadable(): void {
    this.assertOpen();
    if (this.writing) throw new Error('MvccStore read or nested write() inside write(); use the StoreWriter');
  }
}

/** Opens the environment and brings a store from an older build to the current layout. */
function openStoreDatabases(directory: string, mapSizeBytes: number | undefined, logger: Logger): MvccDatabases {
  const dbs = openDatabases(directory, mapSizeBytes);
  let upgraded: number;
  try {
    upgraded = upgradeLayout(dbs);
  } catch (error) {
    // Nothing was written: leave the files to the build that wrote them.
    dbs.root.close().catch(() => undefined);
    throw error;
  }
  if (upgraded > 0) logger.info({ directory, liveKeys: upgraded }, 'mvcc store upgraded to the current layout');
  return dbs;
}

function readCounters(dbs: MvccDatabases): StoreCounters {
  const read = (key: Buffer): bigint | undefined => {
    const value = dbs.meta.get(key);
    return value === undefined ? undefined : readInt64(value);
  };
  return {
    currentRevision: read(MetaKey.currentRevision) ?? FRESH_REVISION,
    compactMain: read(MetaKey.compactedRevision) ?? -1n,
    consistentIndex: read(MetaKey.consistentIndex) ?? 0n,
  };
}

/** For tests and tools: a unique empty directory under the OS temp dir. */
export function temporaryStoreDirectory(prefix = 'latchkey-mvcc-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}
