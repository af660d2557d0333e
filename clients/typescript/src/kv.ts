import type { Connection } from './connection';
import type { Wire } from './proto';

/** Keys and values: strings are UTF-8. */
export type Bytes = string | Buffer;

export interface ResponseHeader {
  clusterId: bigint;
  memberId: bigint;
  revision: bigint;
  raftTerm: bigint;
}

export interface KeyValue {
  key: Buffer;
  value: Buffer;
  createRevision: bigint;
  modRevision: bigint;
  version: bigint;
  /** 0n when the key has no lease. */
  lease: bigint;
}

export type SortOrder = 'none' | 'ascend' | 'descend';
export type SortTarget = 'key' | 'version' | 'create' | 'mod' | 'value';

export interface RangeOptions {
  /** Explicit end of the range (exclusive); "\0" means every key >= key. */
  rangeEnd?: Bytes;
  /** Every key that starts with `key` (sets rangeEnd to prefixEnd(key)). */
  prefix?: boolean;
  limit?: number;
  /** Read at this revision (0n / absent = current). */
  revision?: bigint;
  sortOrder?: SortOrder;
  sortTarget?: SortTarget;
  serializable?: boolean;
  keysOnly?: boolean;
  countOnly?: boolean;
  minModRevision?: bigint;
  maxModRevision?: bigint;
  minCreateRevision?: bigint;
  maxCreateRevision?: bigint;
}

export interface RangeResult {
  header: ResponseHeader;
  kvs: KeyValue[];
  more: boolean;
  count: bigint;
}

export interface PutOptions {
  /** Attach the key to this lease (0n / absent = none). */
  lease?: bigint;
  prevKv?: boolean;
  ignoreValue?: boolean;
  ignoreLease?: boolean;
}

export interface PutResult {
  header: ResponseHeader;
  prevKv?: KeyValue;
}

export interface DeleteOptions {
  rangeEnd?: Bytes;
  prefix?: boolean;
  prevKv?: boolean;
}

export interface DeleteResult {
  header: ResponseHeader;
  deleted: bigint;
  prevKvs: KeyValue[];
}

export type CompareResult = '=' | '!=' | '>' | '<';

/** One guard of a Txn; `value` compares the key's value, the others a 64-bit field. */
export type Compare =
  | { key: Bytes; rangeEnd?: Bytes; target: 'version' | 'create' | 'mod' | 'lease'; result: CompareResult; value: bigint }
  | { key: Bytes; rangeEnd?: Bytes; target: 'value'; result: CompareResult; value: Bytes };

export type RequestOp =
  | { range: { key: Bytes } & RangeOptions }
  | { put: { key: Bytes; value: Bytes } & PutOptions }
  | { deleteRange: { key: Bytes } & DeleteOptions };

/** The answer to one RequestOp: exactly one field is set, matching the op. */
export interface ResponseOp {
  range?: RangeResult;
  put?: PutResult;
  deleteRange?: DeleteResult;
}

export interface TxnRequest {
  compare: Compare[];
  success: RequestOp[];
  failure?: RequestOp[];
}

export interface TxnResult {
  header: ResponseHeader;
  succeeded: boolean;
  responses: ResponseOp[];
}

const SORT_ORDER: Record<SortOrder, number> = { none: 0, ascend: 1, descend: 2 };
const SORT_TARGET: Record<SortTarget, number> = { key: 0, version: 1, create: 2, mod: 3, value: 4 };
const COMPARE_RESULT: Record<CompareResult, number> = { '=': 0, '>': 1, '<': 2, '!=': 3 };
const COMPARE_TARGET = { version: 0, create: 1, mod: 2, value: 3, lease: 4 } as const;

export function toBuffer(bytes: Bytes): Buffer {
  return typeof bytes === 'string' ? Buffer.from(bytes, 'utf8') : bytes;
}

/** The smallest key greater than every key with this prefix; "\0" for an all-0xff prefix. */
export function prefixEnd(prefix: Bytes): Buffer {
  const end = Buffer.from(toBuffer(prefix));
  for (let index = end.length - 1; index >= 0; index--) {
    if (end[index]! < 0xff) {
      end[index]! += 1;
      return end.subarray(0, index + 1);
    }
  }
  return Buffer.from([0]);
}

// ---- wire decoding (proto-loader: int64 as decimal strings, bytes as Buffers) ----

export function toBigInt(value: unknown): bigint {
  if (value === undefined || value === null || value === '') return 0n;
  return BigInt(value as string | number);
}

export function decodeHeader(wire: Wire | null | undefined): ResponseHeader {
  return {
    clusterId: toBigInt(wire?.cluster_id),
    memberId: toBigInt(wire?.member_id),
    revision: toBigInt(wire?.revision),
    raftTerm: toBigInt(wire?.raft_term),
  };
}

export function decodeKeyValue(wire: Wire): KeyValue {
  return {
    key: Buffer.from(wire.key ?? []),
    value: Buffer.from(wire.value ?? []),
    createRevision: toBigInt(wire.create_revision),
    modRevision: toBigInt(wire.mod_revision),
    version: toBigInt(wire.version),
    lease: toBigInt(wire.lease),
  };
}

function decodeRange(wire: Wire): RangeResult {
  return {
    header: decodeHeader(wire.header),
    kvs: (wire.kvs ?? []).map(decodeKeyValue),
    more: wire.more === true,
    count: toBigInt(wire.count),
  };
}

function decodePut(wire: Wire): PutResult {
  const result: PutResult = { header: decodeHeader(wire.header) };
  if (wire.prev_kv) result.prevKv = decodeKeyValue(wire.prev_kv);
  return result;
}

function decodeDelete(wire: Wire): DeleteResult {
  return {
    header: decodeHeader(wire.header),
    deleted: toBigInt(wire.deleted),
    prevKvs: (wire.prev_kvs ?? []).map(decodeKeyValue),
  };
}

function decodeTxn(wire: Wire): TxnResult {
  return {
    header: decodeHeader(wire.header),
    succeeded: wire.succeeded === true,
    responses: (wire.responses ?? []).map((op: Wire): ResponseOp => {
      if (op.response_range) return { range: decodeRange(op.response_range) };
      if (op.response_put) return { put: decodePut(op.response_put) };
      if (op.response_delete_range) return { deleteRange: decodeDelete(op.response_delete_range) };
      return {};
    }),
  };
}

// ---- wire encoding ----

function rangeEndOf(key: Bytes, options: { rangeEnd?: Bytes; prefix?: boolean }): Buffer | undefined {
  if (options.prefix === true) return prefixEnd(key);
  return options.rangeEnd === undefined ? undefined : toBuffer(options.rangeEnd);
}

export function encodeRange(key: Bytes, options: RangeOptions): Wire {
  return {
    key: toBuffer(key),
    range_end: rangeEndOf(key, options),
    limit: String(options.limit ?? 0),
    revision: String(options.revision ?? 0n),
    sort_order: SORT_ORDER[options.sortOrder ?? 'none'],
    sort_target: SORT_TARGET[options.sortTarget ?? 'key'],
    serializable: options.serializable === true,
    keys_only: options.keysOnly === true,
    count_only: options.countOnly === true,
    min_mod_revision: String(options.minModRevision ?? 0n),
    max_mod_revision: String(options.maxModRevision ?? 0n),
    min_create_revision: String(options.minCreateRevision ?? 0n),
    max_create_revision: String(options.maxCreateRevision ?? 0n),
  };
}

function encodePut(key: Bytes, value: Bytes, options: PutOptions): Wire {
  return {
    key: toBuffer(key),
    value: toBuffer(value),
    lease: String(options.lease ?? 0n),
    prev_kv: options.prevKv === true,
    ignore_value: options.ignoreValue === true,
    ignore_lease: options.ignoreLease === true,
  };
}

function encodeDelete(key: Bytes, options: DeleteOptions): Wire {
  return { key: toBuffer(key), range_end: rangeEndOf(key, options), prev_kv: options.prevKv === true };
}

function encodeCompare(compare: Compare): Wire {
  const wire: Wire = {
    result: COMPARE_RESULT[compare.result],
    target: COMPARE_TARGET[compare.target],
    key: toBuffer(compare.key),
  };
  if (compare.rangeEnd !== undefined) wire.range_end = toBuffer(compare.rangeEnd);
  if (compare.target === 'value') wire.value = toBuffer(compare.value);
  else if (compare.target === 'version') wire.version = String(compare.value);
  else if (compare.target === 'create') wire.create_revision = String(compare.value);
  else if (compare.target === 'mod') wire.mod_revision = String(compare.value);
  else wire.lease = String(compare.value);
  return wire;
}

function encodeOp(op: RequestOp): Wire {
  if ('range' in op) return { request_range: encodeRange(op.range.key, op.range) };
  if ('put' in op) return { request_put: encodePut(op.put.key, op.put.value, op.put) };
  return { request_delete_range: encodeDelete(op.deleteRange.key, op.deleteRange) };
}

/** Requests that do not change state: safe to retry on any UNAVAILABLE. */
function isReadOnly(request: TxnRequest): boolean {
  return [...request.success, ...(request.failure ?? [])].every((op) => 'range' in op);
}

/** The KV service: Range, Put, DeleteRange, Txn, Compact. */
export class KV {
  constructor(private readonly connection: Connection) {}

  async range(key: Bytes, options: RangeOptions = {}): Promise<RangeResult> {
    const wire = await this.connection.unary('KV', 'Range', encodeRange(key, options), { idempotent: true });
    return decodeRange(wire);
  }

  /** The key's current KeyValue, or undefined when it does not exist. */
  async get(key: Bytes, options: Omit<RangeOptions, 'prefix' | 'rangeEnd' | 'limit'> = {}): Promise<KeyValue | undefined> {
    const result = await this.range(key, { ...options, limit: 1 });
    return result.kvs[0];
  }

  async put(key: Bytes, value: Bytes, options: PutOptions = {}): Promise<PutResult> {
    const wire = await this.connection.unary('KV', 'Put', encodePut(key, value, options), { idempotent: false });
    return decodePut(wire);
  }

  async delete(key: Bytes, options: DeleteOptions = {}): Promise<DeleteResult> {
    const wire = await this.connection.unary('KV', 'DeleteRange', encodeDelete(key, options), { idempotent: false });
    return decodeDelete(wire);
  }

  async txn(request: TxnRequest): Promise<TxnResult> {
    const wire = await this.connection.unary(
      'KV',
      'Txn',
      {
        compare: request.compare.map(encodeCompare),
        success: request.success.map(encodeOp),
        failure: (request.failure ?? []).map(encodeOp),
      },
      { idempotent: isReadOnly(request) },
    );
    return decodeTxn(wire);
  }

  /** Compacts history up to `revision`; `physical` waits until the space is reclaimed. */
  async compact(revision: bigint, physical = false): Promise<ResponseHeader> {
    const wire = await this.connection.unary('KV', 'Compact', { revision: String(revision), physical }, { idempotent: true });
    return decodeHeader(wire.header);
  }
}
