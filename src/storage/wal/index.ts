export { Wal } from './wal';
export { WalCorruptionError } from './errors';
export { DEFAULT_SEGMENT_BYTES } from './types';
export type { WalOptions, WalRecovery } from './types';
