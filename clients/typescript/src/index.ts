export { Client, ClientOptions } from './client';
export { Connection, ConnectionOptions } from './connection';
export * from './errors';
export {
  Bytes,
  Compare,
  CompareResult,
  DeleteOptions,
  DeleteResult,
  KeyValue,
  KV,
  prefixEnd,
  PutOptions,
  PutResult,
  RangeOptions,
  RangeResult,
  RequestOp,
  ResponseHeader,
  ResponseOp,
  SortOrder,
  SortTarget,
  TxnRequest,
  TxnResult,
} from './kv';
export { Lease, LeaseClient, LeaseGrantResult, LeaseTimeToLiveResult } from './lease';
export { Watch, WatchEvent, WatchManager, WatchOptions, waitForEvent } from './watch';
export { Session, SessionOptions, DEFAULT_SESSION_TTL_SECONDS } from './session';
export { LockOptions, Mutex, sessionKey } from './mutex';
export { CampaignOptions, Election } from './election';
export { fenceCompare, fencedDelete, fencedPut, fencedTxn, FencedResult, FencingLock } from './fenced';
export * as redlock from './redlock';
