import type { Logger } from '../../log';
import type { Entry, HardState, SnapshotMetadata } from '../../consensus/types';

export interface WalOptions {
  /** Cut a new segment once the live one reaches this size (default 64 MiB). */
  segmentBytes: number;
  logger: Logger;
}

export const DEFAULT_SEGMENT_BYTES = 64 * 1024 * 1024;

export interface WalRecovery {
  /** Written once at create (cluster id, member id — opaque). */
  metadata: Uint8Array | undefined;
  /** The latest saved hard state (zeros if none). */
  hardState: HardState;
  /** The marker the replay started from (undefined when replayed from the start). */
  snapshot: SnapshotMetadata | undefined;
  /** Entries after the snapshot index, conflicts resolved: contiguous, ascending. */
  entries: Entry[];
}
