/**
 * The history data model shared by the fault-injection runner (which records histories)
 * and the checkers (which judge them). Pure data: no I/O, no clocks.
 *
 * Times are monotonic milliseconds (e.g. performance.now()) from one process's clock, so
 * they are comparable across clients of that runner. Keys and values are strings (the
 * runner decodes Buffers as UTF-8 or latin1, consistently); 64-bit quantities (revisions,
 * lease ids, fencing tokens, election terms) are bigint.
 */

/**
 * ok: the client saw a definite success (a CAS that found a different value is still 'ok',
 *     with `succeeded: false` in its output).
 * fail: the operation definitely did NOT take effect (rejected before it could apply).
 * unknown: indeterminate (timeout, connection lost): it may take effect at any time after
 *     startMs, or never. Its endMs must be Infinity and it has no output.
 */
export type OperationStatus = 'ok' | 'fail' | 'unknown';

/** One client operation: invoked at startMs, response seen at endMs. */
export interface Operation<I, O> {
  /** Unique within one history. Violations name operations by this id. */
  id: number;
  /** The client (process) that ran it; a client runs one operation at a time. */
  client: number;
  input: I;
  /** Present when status is 'ok'. */
  output?: O;
  status: OperationStatus;
  startMs: number;
  /** Infinity when status is 'unknown': it may take effect any time after startMs. */
  endMs: number;
}

// ---------------------------------------------------------------------------------------
// register: per-key read / write / compare-and-set (through Txn). Linearizability.

/** null means "the key does not exist"; every key starts absent. */
export type RegisterValue = string | null;

export type RegisterInput =
  | { key: string; op: 'read' }
  | { key: string; op: 'write'; value: string }
  /** Sets value iff the current value equals `expected` (null: iff the key is absent). */
  | { key: string; op: 'cas'; expected: RegisterValue; value: string };

export interface RegisterOutput {
  /** For reads: the value read (null when absent). */
  value?: RegisterValue;
  /** For cas: whether the comparison held and the write happened. */
  succeeded?: boolean;
}

export type RegisterOperation = Operation<RegisterInput, RegisterOutput>;

// ---------------------------------------------------------------------------------------
// append: per-key lists grown by Txn (read list, put list + element, compare mod revision).

export type AppendInput = { key: string; op: 'append'; element: string } | { key: string; op: 'read' };

export interface AppendOutput {
  /** For reads: the whole list as read (empty when the key is absent). */
  list?: string[];
}

export type AppendOperation = Operation<AppendInput, AppendOutput>;

export interface AppendHistory {
  operations: AppendOperation[];
  /** A read of every key after the run quiesced (all faults healed): the final lists. */
  finalLists: Record<string, string[]>;
}

// ---------------------------------------------------------------------------------------
// watch: every watcher, across reconnects, sees every revision of its range once, in order.

export interface KvEvent {
  revision: bigint;
  key: string;
  type: 'put' | 'delete';
  /** For puts. */
  value?: string;
}

export type WatchRecord =
  | { kind: 'event'; event: KvEvent; atMs: number }
  /** The watcher reconnected and re-created its watch from this revision. */
  | { kind: 'reconnect'; resumeFromRevision: bigint; atMs: number }
  /**
   * The server cancelled the watch as compacted: events below compactRevision may be
   * missing legitimately; the watcher is expected to resume at compactRevision.
   */
  | { kind: 'compacted'; compactRevision: bigint; atMs: number };

export interface WatchRange {
  key: string;
  /** etcd rules: absent or '' = the single key; '\0' = every key >= key; else [key, rangeEnd). */
  rangeEnd?: string;
}

export interface WatcherLog {
  watcher: number;
  range: WatchRange;
  /** The first revision the watcher asked for. */
  startRevision: bigint;
  /**
   * The revision through which the watcher must be complete (e.g. the store's revision
   * when the watcher was drained at the end of the run). Events after it are ignored.
   */
  untilRevision: bigint;
  /** In the order received. */
  records: WatchRecord[];
}

export interface WatchHistory {
  watchers: WatcherLog[];
  /**
   * The store's authoritative events, every key, in revision order (and in order within a
   * revision), e.g. from a full-history watch from revision 1 after the run.
   */
  authoritative: KvEvent[];
}

// ---------------------------------------------------------------------------------------
// lock: fencing. A resource accepts a write only with a token >= the last one it accepted.

export interface LockHold {
  holder: number;
  /** The fencing token (e.g. the lock key's create revision). Unique per hold. */
  token: bigint;
  /** When the holder's acquire returned. */
  acquiredMs: number;
  /**
   * When the holder began its release, or learned it lost the lock (session expired);
   * Infinity if neither was observed.
   */
  releasedMs: number;
}

/** One write attempt at the checking resource, in the resource's order of handling. */
export interface ResourceWrite {
  holder: number;
  token: bigint;
  acceptedMs: number;
  accepted: boolean;
}

export interface LockHistory {
  holds: LockHold[];
  resourceLog: ResourceWrite[];
}

// ---------------------------------------------------------------------------------------
// election: at most one leader per term; observers agree on the sequence of leaders.

export interface LeaderObservation {
  observer: number;
  /** The election term (e.g. the leader key's create revision): orders leaderships. */
  term: bigint;
  leaderKey: string;
  leaderValue: string;
  atMs: number;
}

export interface ElectionHistory {
  observations: LeaderObservation[];
}

// ---------------------------------------------------------------------------------------
// lease: keys of an expired lease vanish, keys of a kept-alive lease never do.

export interface LeaseRecord {
  leaseId: bigint;
  keys: string[];
  /** The runner kept this lease alive through the end of the run. */
  keptAlive: boolean;
  /** When the lease was revoked or its TTL lapsed without keep-alive (runner's view). */
  expiredAtMs?: number;
}

/** A key as found in the final snapshot, with the lease it is attached to (0n: none). */
export interface SnapshotKey {
  value: string;
  lease: bigint;
}

export interface LeaseHistory {
  leases: LeaseRecord[];
  /** A read of every key after the run quiesced and expired leases had time to lapse. */
  finalKeys: Record<string, SnapshotKey>;
}

// ---------------------------------------------------------------------------------------
// results

export interface Violation {
  checker: string;
  message: string;
  /** Ids of the operations involved, when the history has operations. */
  operations?: number[];
}

/** 'unknown': the checker ran out of budget; never read it as valid. */
export type CheckOutcome = 'valid' | 'invalid' | 'unknown';

export interface CheckResult {
  checker: string;
  /** True only when outcome is 'valid'. */
  valid: boolean;
  outcome: CheckOutcome;
  violations: Violation[];
  /** Counters for the report (operations checked, keys, elapsed ms, ...). */
  stats: Record<string, number>;
}
