import * as fs from 'node:fs';
import { silentLogger } from '../../../src/log';
import { MvccStore, temporaryStoreDirectory } from '../../../src/storage/mvcc';
import {
  CompareResult,
  CompareTarget,
  SortOrder,
  SortTarget,
  type Compare,
  type CompareResultValue,
  type CompareTargetValue,
  type DeleteRangeRequest,
  type PutRequest,
  type RangeRequest,
  type RequestOp,
  type TxnRequest,
} from '../../../src/storage/mvcc/types';

export const b = (text: string): Buffer => Buffer.from(text, 'latin1');
export const text = (bytes: Buffer): string => bytes.toString('latin1');

export interface OpenedStore {
  store: MvccStore;
  directory: string;
  reopen(): Promise<MvccStore>;
  cleanup(): Promise<void>;
}

/** A store in a fresh temp directory; cleanup() closes it and removes the directory. */
export function openTestStore(maxTxnOps?: number): OpenedStore {
  const directory = temporaryStoreDirectory();
  const options = { logger: silentLogger(), ...(maxTxnOps !== undefined ? { maxTxnOps } : {}) };
  const opened: OpenedStore = {
    store: MvccStore.open(directory, options),
    directory,
    async reopen() {
      await opened.store.close();
      opened.store = MvccStore.open(directory, options);
      return opened.store;
    },
    async cleanup() {
      await opened.store.close();
      fs.rmSync(directory, { recursive: true, force: true });
    },
  };
  return opened;
}

export function rangeReq(key: string, rangeEnd = '', extra: Partial<RangeRequest> = {}): RangeRequest {
  return {
    key: b(key),
    rangeEnd: b(rangeEnd),
    limit: 0n,
    revision: 0n,
    sortOrder: SortOrder.NONE,
    sortTarget: SortTarget.KEY,
    serializable: false,
    keysOnly: false,
    countOnly: false,
    minModRevision: 0n,
    maxModRevision: 0n,
    minCreateRevision: 0n,
    maxCreateRevision: 0n,
    ...extra,
  };
}

export function putReq(key: string, value: string, extra: Partial<PutRequest> = {}): PutRequest {
  return { key: b(key), value: b(value), lease: 0n, prevKv: false, ignoreValue: false, ignoreLease: false, ...extra };
}

export function deleteReq(key: string, rangeEnd = '', prevKv = false): DeleteRangeRequest {
  return { key: b(key), rangeEnd: b(rangeEnd), prevKv };
}

export function compare(
  key: string,
  target: CompareTargetValue,
  result: CompareResultValue,
  operand: bigint | string,
  rangeEnd = '',
): Compare {
  const c: Compare = {
    result,
    target,
    key: b(key),
    rangeEnd: b(rangeEnd),
    version: 0n,
    createRevision: 0n,
    modRevision: 0n,
    value: Buffer.alloc(0),
    lease: 0n,
  };
  if (typeof operand === 'string') c.value = b(operand);
  else if (target === CompareTarget.VERSION) c.version = operand;
  else if (target === CompareTarget.CREATE) c.createRevision = operand;
  else if (target === CompareTarget.MOD) c.modRevision = operand;
  else if (target === CompareTarget.LEASE) c.lease = operand;
  return c;
}

export const op = {
  range: (req: RangeRequest): RequestOp => ({ kind: 'range', range: req }),
  put: (req: PutRequest): RequestOp => ({ kind: 'put', put: req }),
  del: (req: DeleteRangeRequest): RequestOp => ({ kind: 'deleteRange', deleteRange: req }),
  txn: (req: TxnRequest): RequestOp => ({ kind: 'txn', txn: req }),
  none: (): RequestOp => ({ kind: 'none' }),
};

export function txnReq(compares: Compare[], success: RequestOp[], failure: RequestOp[] = []): TxnRequest {
  return { compare: compares, success, failure };
}

type LeaseExists = (id: bigint) => boolean;
const noLeases: LeaseExists = () => false;

/** One request per write transaction, like a batch of one Raft entry. */
export function put(store: MvccStore, key: string, value: string, extra: Partial<PutRequest> = {}, leaseExists: LeaseExists = noLeases) {
  return store.write((w) => w.put(putReq(key, value, extra), leaseExists));
}

export function del(store: MvccStore, key: string, rangeEnd = '', prevKv = false) {
  return store.write((w) => w.deleteRange(deleteReq(key, rangeEnd, prevKv)));
}

export function txn(store: MvccStore, req: TxnRequest, leaseExists: LeaseExists = noLeases) {
  return store.write((w) => w.txn(req, leaseExists));
}

export function keysOf(store: MvccStore, req: RangeRequest): string[] {
  return store.range(req).kvs.map((kv) => text(kv.key));
}

export { CompareResult, CompareTarget, SortOrder, SortTarget };
