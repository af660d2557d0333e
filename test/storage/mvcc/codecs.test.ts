import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import * as protobuf from 'protobufjs';
import { decodeKeyValue, encodeKeyValue } from '../../../src/storage/mvcc';
import { decodeIndexKey, indexKey } from '../../../src/storage/mvcc/key-index-codec';
import { parseRevisionKey, revisionKey } from '../../../src/storage/mvcc/revision';
import type { KeyValue } from '../../../src/storage/mvcc/types';

const root = protobuf.Root.fromJSON({
  nested: {
    KeyValue: {
      fields: {
        key: { type: 'bytes', id: 1 },
        create_revision: { type: 'int64', id: 2 },
        mod_revision: { type: 'int64', id: 3 },
        version: { type: 'int64', id: 4 },
        value: { type: 'bytes', id: 5 },
        lease: { type: 'int64', id: 6 },
      },
    },
  },
});
const KeyValueType = root.lookupType('KeyValue');

const int64 = fc.oneof(fc.constant(0n), fc.bigInt(1n, 1000n), fc.bigInt(-(2n ** 63n), 2n ** 63n - 1n));
const bytes = fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a));
const keyValue = fc.record({ key: bytes, createRevision: int64, modRevision: int64, version: int64, value: bytes, lease: int64 });

describe('mvccpb.KeyValue codec', () => {
  test('encodes byte-for-byte like protobufjs (zero fields omitted) and round-trips', () => {
    fc.assert(
      fc.property(keyValue, (kv: KeyValue) => {
        const ours = encodeKeyValue(kv);
        const message = KeyValueType.fromObject({
          ...(kv.key.length ? { key: kv.key } : {}),
          ...(kv.createRevision ? { create_revision: kv.createRevision.toString() } : {}),
          ...(kv.modRevision ? { mod_revision: kv.modRevision.toString() } : {}),
          ...(kv.version ? { version: kv.version.toString() } : {}),
          ...(kv.value.length ? { value: kv.value } : {}),
          ...(kv.lease ? { lease: kv.lease.toString() } : {}),
        });
        assert.deepEqual(ours, Buffer.from(KeyValueType.encode(message).finish()));
        assert.deepEqual(decodeKeyValue(ours), { ...kv });
      }),
      { numRuns: 300 },
    );
  });
});

describe('storage keys', () => {
  test('revision keys use etcd layout and sort by (main, sub)', () => {
    assert.equal(revisionKey(2n, 1n, false).toString('hex'), '0000000000000002' + '5f' + '0000000000000001');
    assert.equal(revisionKey(2n, 1n, true).length, 18);
    assert.deepEqual(parseRevisionKey(revisionKey(7n, 3n, true)), { main: 7n, sub: 3n, tombstone: true });
    assert.ok(Buffer.compare(revisionKey(2n, 9n, true), revisionKey(3n, 0n, false)) < 0);
  });

  test('index keys sort by user key bytewise, then revision, and decode back', () => {
    const entry = fc.record({
      key: fc.uint8Array({ minLength: 1, maxLength: 6 }).map((a) => Buffer.from(a.map((x) => x % 4))),
      main: fc.bigInt(0n, 2n ** 64n - 1n),
      sub: fc.bigInt(0n, 20n),
    });
    fc.assert(
      fc.property(entry, entry, (x, y) => {
        const encodedOrder = Math.sign(Buffer.compare(indexKey(x.key, x), indexKey(y.key, y)));
        let expected = Math.sign(Buffer.compare(x.key, y.key));
        if (expected === 0) expected = x.main !== y.main ? (x.main < y.main ? -1 : 1) : x.sub !== y.sub ? (x.sub < y.sub ? -1 : 1) : 0;
        assert.equal(encodedOrder, expected);
        assert.deepEqual(decodeIndexKey(indexKey(x.key, x)), { ...x });
      }),
      { numRuns: 500 },
    );
  });
});
