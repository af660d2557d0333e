import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeInternalRequest, encodeInternalRequest, type InternalRequest } from '../../src/api/codec/internal-request';
import type { Compare, PutRequest, RangeRequest } from '../../src/storage/mvcc/types';

const MAX_UINT64 = 18446744073709551615n;
const MIN_INT64 = -9223372036854775808n;
const MAX_INT64 = 9223372036854775807n;

function range(overrides: Partial<RangeRequest> = {}): RangeRequest {
  return {
    key: Buffer.from('a'),
    rangeEnd: Buffer.from([0]),
    limit: 10n,
    revision: MAX_INT64,
    sortOrder: 2,
    sortTarget: 4,
    serializable: true,
    keysOnly: true,
    countOnly: false,
    minModRevision: 1n,
    maxModRevision: 2n,
    minCreateRevision: 3n,
    maxCreateRevision: 4n,
    ...overrides,
  };
}

function put(key: string, overrides: Partial<PutRequest> = {}): PutRequest {
  return { key: Buffer.from(key), value: Buffer.from([0, 255, 1]), lease: -7n, prevKv: true, ignoreValue: false, ignoreLease: false, ...overrides };
}

function compare(target: Compare['target'], overrides: Partial<Compare> = {}): Compare {
  return {
    result: 3,
    target,
    key: Buffer.from('c'),
    rangeEnd: Buffer.alloc(0),
    version: 0n,
    createRevision: 0n,
    modRevision: 0n,
    value: Buffer.alloc(0),
    lease: 0n,
    ...overrides,
  };
}

const every: InternalRequest[] = [
  { id: 1n, kind: 'range', range: range() },
  { id: MAX_UINT64, kind: 'put', put: put('k') },
  { id: 2n, kind: 'put', put: put('k', { value: Buffer.alloc(0), lease: 0n, prevKv: false, ignoreValue: true, ignoreLease: true }) },
  { id: 3n, kind: 'deleteRange', deleteRange: { key: Buffer.from('a'), rangeEnd: Buffer.from('b'), prevKv: true } },
  {
    id: 4n,
    kind: 'txn',
    txn: {
      compare: [
        compare(0, { version: 5n }),
        compare(1, { createRevision: 0n }),
        compare(2, { modRevision: MIN_INT64 }),
        compare(3, { value: Buffer.from('v'), rangeEnd: Buffer.from('d') }),
        compare(4, { lease: -1n }),
      ],
      success: [
        { kind: 'put', put: put('x') },
        { kind: 'range', range: range({ countOnly: true }) },
        { kind: 'none' },
        { kind: 'txn', txn: { compare: [], success: [{ kind: 'deleteRange', deleteRange: { key: Buffer.from('y'), rangeEnd: Buffer.alloc(0), prevKv: false } }], failure: [] } },
      ],
      failure: [{ kind: 'none' }],
    },
  },
  { id: 5n, kind: 'txn', txn: { compare: [], success: [], failure: [] } },
  { id: 6n, kind: 'compaction', compaction: { revision: 23n, physical: true } },
  { id: 7n, kind: 'leaseGrant', leaseId: -7n, ttlSeconds: 9_000_000_000n },
  { id: 8n, kind: 'leaseGrant', leaseId: 0n, ttlSeconds: 2n },
  { id: 9n, kind: 'leaseRevoke', leaseId: MIN_INT64 },
  { id: 10n, kind: 'leaseCheckpoint', checkpoints: [{ id: 1n, remainingTtlSeconds: 29n }, { id: -2n, remainingTtlSeconds: 0n }] },
  { id: 11n, kind: 'leaseCheckpoint', checkpoints: [] },
  { id: 12n, kind: 'alarm', action: 1, memberId: MAX_UINT64, alarm: 1 },
  { id: 0n, kind: 'alarm', action: 0, memberId: 0n, alarm: 0 },
];

describe('InternalRequest encoding', () => {
  for (const request of every) {
    test(`${request.kind} #${request.id} survives encode and decode unchanged`, () => {
      const bytes = encodeInternalRequest(request);
      assert.ok(bytes instanceof Uint8Array);
      assert.deepEqual(decodeInternalRequest(bytes), request);
    });
  }

  test('an empty RequestOp stays empty on the wire (kind none)', () => {
    const bytes = encodeInternalRequest({ id: 1n, kind: 'txn', txn: { compare: [], success: [{ kind: 'none' }], failure: [] } });
    const decoded = decodeInternalRequest(bytes);
    assert.equal(decoded.kind, 'txn');
    if (decoded.kind === 'txn') assert.deepEqual(decoded.txn.success, [{ kind: 'none' }]);
  });

  test('zero fields are omitted: a put of key "k" only encodes header, key', () => {
    const bytes = encodeInternalRequest({ id: 1n, kind: 'put', put: put('k', { value: Buffer.alloc(0), lease: 0n, prevKv: false }) });
    // header{ID=1} (field 100) + put{key="k"} (field 4)
    assert.equal(Buffer.from(bytes).toString('hex'), '2203' + '0a016b' + 'a2060208' + '01');
  });

  test('garbage bytes are refused with an error, not a crash', () => {
    assert.throws(() => decodeInternalRequest(Buffer.from([0xff, 0xff, 0xff, 0xff])));
    assert.throws(() => decodeInternalRequest(Buffer.alloc(0)), /no known request kind/);
  });
});
