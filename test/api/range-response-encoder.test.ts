import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeRangeResponse } from '../../src/api/codec/range-response-encoder';
import { rangeResponseToWire } from '../../src/api/codec/kv-responses';
import { messageType } from '../../src/api/codec/proto-root';
import type { ResponseHeader } from '../../src/api/member-port';
import type { KeyValue, RangeResult } from '../../src/storage/mvcc/types';
import { SAMPLE_HEADERS, protobufjsBytes } from './encoder-fixtures';

function kv(key: string, fields: Partial<KeyValue> = {}): KeyValue {
  return { key: Buffer.from(key), value: Buffer.from(`value of ${key}`), createRevision: 5n, modRevision: 9n, version: 2n, lease: 0n, ...fields };
}

function protobufjsRange(header: ResponseHeader, r: RangeResult): Buffer {
  return protobufjsBytes('etcdserverpb.RangeResponse', rangeResponseToWire(header, r));
}

describe('RangeResponse encoding', () => {
  const headers = SAMPLE_HEADERS;
  const results: RangeResult[] = [
    { kvs: [], more: false, count: 0n },
    { kvs: [kv('a')], more: false, count: 1n },
    { kvs: [kv('a'), kv('b', { lease: 0x694d_7c5b_0e1a_2f3dn }), kv('c', { value: Buffer.alloc(0) })], more: true, count: 40n },
    { kvs: [kv('', { createRevision: 0n, modRevision: 0n, version: 0n })], more: false, count: 1n },
    { kvs: [kv('big', { value: Buffer.alloc(70_000, 7), modRevision: 2n ** 62n })], more: false, count: 2n ** 40n },
    { kvs: [], more: false, count: 7n },
  ];

  test('gives the bytes protobufjs gives, for empty, keys-only, leased, large and limited results', () => {
    for (const header of headers) {
      for (const r of results) {
        assert.deepEqual(encodeRangeResponse(header, r), protobufjsRange(header, r), `${r.kvs.length} kvs at revision ${header.revision}`);
      }
    }
  });

  test('decodes back to the same keys, values and revisions', () => {
    const type = messageType('etcdserverpb.RangeResponse');
    const decoded = type.toObject(type.decode(encodeRangeResponse(headers[0]!, results[2]!)), { longs: String }) as {
      header: { revision: string };
      kvs: Array<{ key: Buffer; value?: Buffer; lease?: string }>;
      more: boolean;
      count: string;
    };
    assert.equal(decoded.header.revision, '1234');
    assert.deepEqual(decoded.kvs.map((k) => k.key.toString()), ['a', 'b', 'c']);
    assert.equal(decoded.kvs[1]!.lease, (0x694d_7c5b_0e1a_2f3dn).toString());
    assert.equal(decoded.more, true);
    assert.equal(decoded.count, '40');
  });
});
