/**
 * The KV model as the state machine sees it: etcd's mvccpb/etcdserverpb messages with
 * 64-bit fields as bigint and bytes as Buffer. The API layer converts wire objects to and
 * from these; the store never sees protobuf.
 */

export interface KeyValue {
  key: Buffer;
  createRevision: bigint;
  modRevision: bigint;
  version: bigint;
  value: Buffer;
  lease: bigint;
}

export const EventType = { PUT: 0, DELETE: 1 } as const;
export type EventTypeValue = (typeof EventType)[keyof typeof EventType];

/**
 * One change. For DELETE, `kv` carries only key and modRevision (the deletion revision),
 * other fields zero/empty, as etcd sends it. `prevKv` is the key's previous version when
 * known (absent for a creation); the watch layer decides whether to send it.
 */
export interface Event {
  type: EventTypeValue;
  kv: KeyValue;
  prevKv?: KeyValue;
}

export const SortOrder = { NONE: 0, ASCEND: 1, DESCEND: 2 } as const;
export type SortOrderValue = (typeof SortOrder)[keyof typeof SortOrder];
export const SortTarget = { KEY: 0, VERSION: 1, CREATE: 2, MOD: 3, VALUE: 4 } as const;
export type SortTargetValue = (typeof SortTarget)[keyof typeof SortTarget];

export interface RangeRequest {
  key: Buffer;
  rangeEnd: Buffer;
  limit: bigint;
  revision: bigint;
  sortOrder: SortOrderValue;
  sortTarget: SortTargetValue;
  serializable: boolean;
  keysOnly: boolean;
  countOnly: boolean;
  minModRevision: bigint;
  maxModRevision: bigint;
  minCreateRevision: bigint;
  maxCreateRevision: bigint;
}

export interface RangeResult {
  kvs: KeyValue[];
  more: boolean;
  count: bigint;
}

export interface PutRequest {
  key: Buffer;
  value: Buffer;
  lease: bigint;
  prevKv: boolean;
  ignoreValue: boolean;
  ignoreLease: boolean;
}

export interface PutResult {
  prevKv?: KeyValue;
}

export interface DeleteRangeRequest {
  key: Buffer;
  rangeEnd: Buffer;
  prevKv: boolean;
}

export interface DeleteRangeResult {
  deleted: bigint;
  prevKvs: KeyValue[];
}

export const CompareResult = { EQUAL: 0, GREATER: 1, LESS: 2, NOT_EQUAL: 3 } as const;
export type CompareResultValue = (typeof CompareResult)[keyof typeof CompareResult];
export const CompareTarget = { VERSION: 0, CREATE: 1, MOD: 2, VALUE: 3, LEASE: 4 } as const;
export type CompareTargetValue = (typeof CompareTarget)[keyof typeof CompareTarget];

/** The value compared is the one matching `target`; absent oneof members arrive as 0/empty. */
export interface Compare {
  result: CompareResultValue;
  target: CompareTargetValue;
  key: Buffer;
  rangeEnd: Buffer;
  version: bigint;
  createRevision: bigint;
  modRevision: bigint;
  value: Buffer;
  lease: bigint;
}

/** A RequestOp whose oneof was empty on the wire is `{ kind: 'none' }` (etcd: "key not found"). */
export type RequestOp =
  | { kind: 'range'; range: RangeRequest }
  | { kind: 'put'; put: PutRequest }
  | { kind: 'deleteRange'; deleteRange: DeleteRangeRequest }
  | { kind: 'txn'; txn: TxnRequest }
  | { kind: 'none' };

export interface TxnRequest {
  compare: Compare[];
  success: RequestOp[];
  failure: RequestOp[];
}

/**
 * Nested results carry the header revision etcd puts inside each ResponseOp:
 * Range: revision visible at that point; Put/Delete: the txn's revision; nested txn: none.
 */
export type ResponseOp =
  | { kind: 'range'; range: RangeResult; headerRevision: bigint }
  | { kind: 'put'; put: PutResult; headerRevision: bigint }
  | { kind: 'deleteRange'; deleteRange: DeleteRangeResult; headerRevision: bigint }
  | { kind: 'txn'; txn: TxnResult };

export interface TxnResult {
  succeeded: boolean;
  responses: ResponseOp[];
}

export interface CompactionRequest {
  revision: bigint;
  physical: boolean;
}

/** Everything one write request changed, for watchers and the lessor (key↔lease index). */
export interface WriteOutcome {
  /** The store revision after the request (unchanged if nothing was written). */
  revision: bigint;
  /** Events in the order they happened; all share `revision` when non-empty. */
  events: Event[];
}
