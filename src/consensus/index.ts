/** Public surface of the pure Raft core. */
export * from './types';
export * from './messages';
export * from './errors';
export type { RaftConfig, RaftLogger } from './config';
export type { RaftStorage } from './storage';
export { MemoryStorage, emptySnapshot } from './memory-storage';
export { payloadSize } from './raft';
export { RawNode, type Ready, type RaftStatus, type ProgressStatus } from './raw-node';
export { encodeConfChange, decodeConfChange } from './conf-change';
export type { ProgressState } from './progress';
