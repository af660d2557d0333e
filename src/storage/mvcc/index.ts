export { isRefusedCommit, MvccStore, temporaryStoreDirectory, type MvccStoreOptions } from './mvcc-store';
export type { StoreWriter } from './store-writer';
export type { LeaseRecord } from './lease-record';
export type { HashKvResult } from './hash-kv';
export {
  DEFAULT_MAX_TXN_OPS,
  validateDeleteRange,
  validatePut,
  validateRange,
  validateTxn,
} from './request-validation';
export { isFromKey, isSingleKey, inKeyRange, MAX_KEY_BYTES } from './key-range';
export { encodeKeyValue, decodeKeyValue } from './key-value-codec';
export * from './types';
export { isTxnReadOnly } from './write-ops';
