import type { Event } from '../types';

export const WatchFilter = { NOPUT: 0, NODELETE: 1 } as const;
export type WatchFilterValue = (typeof WatchFilter)[keyof typeof WatchFilter];

export interface WatchCreateRequest {
  key: Buffer;
  rangeEnd: Buffer;
  startRevision: bigint;
  progressNotify: boolean;
  filters: WatchFilterValue[];
  prevKv: boolean;
  /** 0 = let the stream assign one. */
  watchId: bigint;
  fragment: boolean;
}

/**
 * One response on a watch stream, before the API layer adds cluster_id, member_id and
 * raft_term and splits it into fragments. `headerRevision` is what etcd puts in
 * header.revision for that response (0 for a compacted-watch cancel).
 */
export interface WatchResponse {
  headerRevision: bigint;
  watchId: bigint;
  created: boolean;
  canceled: boolean;
  compactRevision: bigint;
  cancelReason: string;
  /** Whether this watcher asked for fragmentation (the API splits large responses). */
  fragment: boolean;
  events: Event[];
}

/** One gRPC Watch stream's worth of watchers. Responses go out through the stream's sink. */
export interface WatchStream {
  create(req: WatchCreateRequest): void;
  cancel(watchId: bigint): void;
  requestProgress(): void;
  /** Drops every watcher; nothing is sent afterwards. */
  close(): void;
}

export type WatchResponseSink = (response: WatchResponse) => void;

/** What the watch hub reads from the store to replay history and detect compaction. */
export interface HistorySource {
  currentRevision(): bigint;
  compactedRevision(): bigint;
  /**
   * Events with fromRevision <= revision <= toRevision on keys in [key, rangeEnd) (etcd's
   * range rules: empty rangeEnd = one key, "\0" = from key on), ordered by revision then
   * by their order within the revision, each with prevKv when that version still exists.
   * Callers bound toRevision - fromRevision (etcd replays 1000 revisions per batch).
   */
  eventsBetween(fromRevision: bigint, toRevision: bigint, key: Buffer, rangeEnd: Buffer): Event[];
}
