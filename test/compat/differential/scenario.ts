import type { Wire } from '../../support/etcd-client';

/**
 * The differential scenario language. A scenario is a list of steps (gRPC calls and watch
 * stream actions) written as data. Keys are relative to a per-scenario prefix; revisions are
 * written as offsets from the revision read at the scenario start (`rev(n)`); lease IDs as
 * the n-th lease granted in the scenario (`lease(n)`). The runner resolves these per server.
 */

/** A revision `offset` revisions after the scenario's starting revision. */
export class RevRef {
  constructor(readonly offset: number) {}
}
/** The ID of the `index`-th lease granted in this scenario (0-based). */
export class LeaseRef {
  constructor(readonly index: number) {}
}

/** Raw key bytes under the scenario prefix (a Buffer given directly is never prefixed). */
export class KeyBytes {
  constructor(readonly bytes: Buffer) {}
}

export const rev = (offset: number): RevRef => new RevRef(offset);
/** `keyBytes('b', [0xff])` = the scenario prefix + "b" + 0xff. */
export const keyBytes = (...parts: (string | number[])[]): KeyBytes =>
  new KeyBytes(Buffer.concat(parts.map((part) => (typeof part === 'string' ? Buffer.from(part) : Buffer.from(part)))));
export const lease = (index: number): LeaseRef => new LeaseRef(index);

/** A key: relative text, relative bytes, or a raw Buffer (not prefixed). */
export type Key = string | Buffer | KeyBytes;

/** Request fields: plain values, Buffers (raw bytes, never prefixed), or the refs above. */
export type Req = { [field: string]: unknown };

export type UnaryCall =
  | 'Range'
  | 'Put'
  | 'DeleteRange'
  | 'Txn'
  | 'Compact'
  | 'LeaseGrant'
  | 'LeaseRevoke'
  | 'LeaseTimeToLive'
  | 'LeaseLeases';

export type Step =
  | { kind: 'call'; call: UnaryCall; req: Req }
  /** One request on a fresh LeaseKeepAlive stream; records the single answer. */
  | { kind: 'keepAlive'; req: Req }
  | { kind: 'watchOpen'; stream: string }
  | { kind: 'watchSend'; stream: string; req: Req }
  /** Receive `count` messages (sorted by watch_id when `sorted`, for cross-watcher order). */
  | { kind: 'watchRecv'; stream: string; count: number; timeoutMs: number; sorted: boolean }
  /** Whatever arrives within `ms` (normally nothing). */
  | { kind: 'watchQuiet'; stream: string; ms: number }
  | { kind: 'watchClose'; stream: string };

export interface Scenario {
  name: string;
  steps: Step[];
  /** Test timeout (default 20 s). */
  timeoutMs?: number;
}

const S = 'w';
const call = (c: UnaryCall, req: Req): Step => ({ kind: 'call', call: c, req });

// ---- KV ----
export const put = (key: Key, value: string | Buffer = '', extra: Req = {}): Step =>
  call('Put', { key, value, ...extra });
export const get = (key: Key, extra: Req = {}): Step => call('Range', { key, ...extra });
export const del = (key: Key, extra: Req = {}): Step => call('DeleteRange', { key, ...extra });
export const txn = (t: { compare?: Req[]; success?: Req[]; failure?: Req[] }): Step => call('Txn', t);
export const compact = (revision: RevRef | number | string, physical = false): Step =>
  call('Compact', { revision, physical });

// ---- Txn parts ----
export type CompareTarget = 'VERSION' | 'CREATE' | 'MOD' | 'VALUE' | 'LEASE';
export type CompareResult = 'EQUAL' | 'GREATER' | 'LESS' | 'NOT_EQUAL';
const TARGET_FIELD: Record<CompareTarget, string> = {
  VERSION: 'version',
  CREATE: 'create_revision',
  MOD: 'mod_revision',
  VALUE: 'value',
  LEASE: 'lease',
};
/** A Compare as the Go client sends it: the oneof member matching the target is always set. */
export const cmp = (key: Key, target: CompareTarget, result: CompareResult, value: unknown, extra: Req = {}): Req => ({
  key,
  target,
  result,
  [TARGET_FIELD[target]]: value,
  ...extra,
});
export const opPut = (key: Key, value: string | Buffer = '', extra: Req = {}): Req => ({
  request_put: { key, value, ...extra },
});
export const opGet = (key: Key, extra: Req = {}): Req => ({ request_range: { key, ...extra } });
export const opDel = (key: Key, extra: Req = {}): Req => ({ request_delete_range: { key, ...extra } });
export const opTxn = (t: { compare?: Req[]; success?: Req[]; failure?: Req[] }): Req => ({ request_txn: t });

// ---- Lease ----
export const grant = (TTL: number | string, ID: number | string = 0): Step => call('LeaseGrant', { TTL, ID });
export const revoke = (ID: LeaseRef | number | string): Step => call('LeaseRevoke', { ID });
export const timeToLive = (ID: LeaseRef | number | string, keys = false): Step => call('LeaseTimeToLive', { ID, keys });
export const leases = (): Step => call('LeaseLeases', {});
export const keepAlive = (ID: LeaseRef | number | string): Step => ({ kind: 'keepAlive', req: { ID } });

// ---- Watch ----
export const wOpen = (stream = S): Step => ({ kind: 'watchOpen', stream });
export const wCreate = (key: Key, extra: Req = {}, stream = S): Step => ({
  kind: 'watchSend',
  stream,
  req: { create_request: { key, ...extra } },
});
export const wCancel = (watch_id: number, stream = S): Step => ({
  kind: 'watchSend',
  stream,
  req: { cancel_request: { watch_id } },
});
export const wProgress = (stream = S): Step => ({ kind: 'watchSend', stream, req: { progress_request: {} } });
export const wRecv = (count = 1, opts: { stream?: string; timeoutMs?: number; sorted?: boolean } = {}): Step => ({
  kind: 'watchRecv',
  stream: opts.stream ?? S,
  count,
  timeoutMs: opts.timeoutMs ?? 3_000,
  sorted: opts.sorted ?? false,
});
export const wQuiet = (ms = 300, stream = S): Step => ({ kind: 'watchQuiet', stream, ms });
export const wClose = (stream = S): Step => ({ kind: 'watchClose', stream });

/** A short label for a step in diffs. */
export function describeStep(step: Step): string {
  switch (step.kind) {
    case 'call':
      return `${step.call} ${summarize(step.req)}`;
    case 'keepAlive':
      return `LeaseKeepAlive ${summarize(step.req)}`;
    case 'watchOpen':
      return `watch[${step.stream}] open`;
    case 'watchSend':
      return `watch[${step.stream}] send ${summarize(step.req)}`;
    case 'watchRecv':
      return `watch[${step.stream}] recv ${step.count}`;
    case 'watchQuiet':
      return `watch[${step.stream}] quiet ${step.ms}ms`;
    case 'watchClose':
      return `watch[${step.stream}] close`;
  }
}

function summarize(req: Req): string {
  const text = JSON.stringify(req, (_field, value: unknown) => {
    if (value instanceof RevRef) return `rev(${value.offset})`;
    if (value instanceof LeaseRef) return `lease(${value.index})`;
    if (value instanceof KeyBytes) return `bytes(${value.bytes.toString('hex')})`;
    if (typeof value === 'string' && value.length > 40) return `<${value.length} chars>`;
    if (value !== null && typeof value === 'object' && (value as Wire).type === 'Buffer') {
      const data = (value as { data: number[] }).data;
      return `bytes[${data.length > 8 ? `${data.length}` : data.join(',')}]`;
    }
    return value;
  });
  return text.length > 160 ? `${text.slice(0, 157)}...` : text;
}
