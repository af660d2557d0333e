import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { messageType } from '../../src/api/codec/proto-root';
import { EtcdError } from '../../src/errors';
import { decodeGoBase64 } from '../../src/gateway/go-base64';
import { JsonValueSplitter, parseGoJson } from '../../src/gateway/go-json';
import { messageFromJson, requestBytesFromJson, responseJsonFromBytes } from '../../src/gateway/json-codec';

function goError(run: () => unknown): string {
  try {
    run();
  } catch (err) {
    assert.ok(err instanceof EtcdError || err instanceof Error);
    return err.message;
  }
  throw new Error('expected a failure');
}

describe('Go base64 (StdEncoding)', () => {
  test('decodes standard base64 with padding, skipping CR/LF', () => {
    assert.equal(decodeGoBase64('Zm9v').toString(), 'foo');
    assert.equal(decodeGoBase64('Zm9vYg==').toString(), 'foob');
    assert.equal(decodeGoBase64('Zm9vYmE=').toString(), 'fooba');
    assert.equal(decodeGoBase64('Zm9v\r\nYmFy').toString(), 'foobar');
    assert.equal(decodeGoBase64('').length, 0);
  });

  test("reports Go's offsets (checked against etcd 3.4's gateway)", () => {
    assert.equal(goError(() => decodeGoBase64('Zm9')), 'illegal base64 data at input byte 0');
    assert.equal(goError(() => decodeGoBase64('Zm9vYg')), 'illegal base64 data at input byte 4');
    assert.equal(goError(() => decodeGoBase64('Zm9v!')), 'illegal base64 data at input byte 4');
    assert.equal(goError(() => decodeGoBase64('Zm-v')), 'illegal base64 data at input byte 2');
    assert.equal(goError(() => decodeGoBase64('Zg==Zg==')), 'illegal base64 data at input byte 4');
  });
});

describe('Go JSON decoding of request bodies', () => {
  test("syntax errors carry encoding/json's texts", () => {
    assert.equal(goError(() => parseGoJson('xyz')), "invalid character 'x' looking for beginning of value");
    assert.equal(goError(() => parseGoJson('not json')), "invalid character 'o' in literal null (expecting 'u')");
    assert.equal(goError(() => parseGoJson('{"a":')), 'unexpected EOF');
    assert.equal(goError(() => parseGoJson('{"a" 1}')), "invalid character '1' after object key");
    assert.equal(goError(() => parseGoJson('{"a":1,}')), "invalid character '}' looking for beginning of object key string");
  });

  test('only the first value is read, as json.Decoder does', () => {
    assert.deepEqual(parseGoJson('{"a":1} trailing'), { a: 1 });
  });

  test('a streaming body splits into its values', () => {
    const splitter = new JsonValueSplitter(1024);
    assert.deepEqual(splitter.push('{"ID":"1"}\n{"ID"'), ['{"ID":"1"}']);
    assert.deepEqual(splitter.push(':"2"} {"x":"}"}'), ['\n{"ID":"2"}', ' {"x":"}"}']);
  });
});

describe('JSON ↔ protobuf mapping', () => {
  test('input accepts snake_case and lowerCamelCase, int64 numbers or strings, enum names or numbers', () => {
    const type = messageType('etcdserverpb.RangeRequest');
    const snake = messageFromJson(type, { key: 'YQ==', range_end: 'Yg==', limit: '5', sort_order: 'DESCEND', sort_target: 4 });
    const camel = messageFromJson(type, { key: 'YQ==', rangeEnd: 'Yg==', limit: 5, sortOrder: 2, sortTarget: 'VALUE' });
    assert.deepEqual(snake, camel);
    assert.equal(snake.sort_order, 2);
  });

  test('type mismatches carry Go texts', () => {
    const type = messageType('etcdserverpb.RangeRequest');
    assert.equal(goError(() => messageFromJson(type, { keys_only: 'yes' })), 'json: cannot unmarshal string into Go value of type bool');
    assert.equal(goError(() => messageFromJson(type, { limit: 1.5 })), 'json: cannot unmarshal number 1.5 into Go value of type int64');
    assert.equal(goError(() => messageFromJson(type, { key: 5 })), 'json: cannot unmarshal number into Go value of type []uint8');
  });

  test('output: original names, 64-bit as strings (full uint64 range), defaults omitted, enums by name', () => {
    const header = { cluster_id: { low: -1, high: -1, unsigned: true }, revision: 7 };
    const type = messageType('etcdserverpb.WatchResponse');
    const bytes = type.encode({ header, events: [{ type: 1, kv: { key: Buffer.from('k') } }, { kv: { key: Buffer.from('k') } }] }).finish();
    assert.deepEqual(responseJsonFromBytes(type, bytes), {
      header: { cluster_id: '18446744073709551615', revision: '7' },
      events: [{ type: 'DELETE', kv: { key: 'aw==' } }, { kv: { key: 'aw==' } }],
    });
  });

  test('a txn body round-trips to the request the gRPC path decodes', () => {
    const type = messageType('etcdserverpb.TxnRequest');
    const bytes = requestBytesFromJson(type, {
      compare: [{ target: 'CREATE', key: 'YQ==', createRevision: '0' }],
      success: [{ requestPut: { key: 'YQ==', value: 'Yg==' } }],
    });
    const decoded = type.toObject(type.decode(bytes), { longs: String, enums: String, bytes: String, oneofs: true });
    assert.equal(decoded.compare[0].target, 'CREATE');
    assert.equal(decoded.compare[0].target_union, 'create_revision');
    assert.equal(decoded.success[0].request, 'request_put');
  });
});
