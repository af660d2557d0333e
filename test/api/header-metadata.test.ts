import { Metadata } from '@grpc/grpc-js';
import assert from 'node:assert/strict';
import type * as http2 from 'node:http2';
import { describe, test } from 'node:test';
import { HeaderMetadata } from '../../src/api/header-metadata';

/** What grpc-js hands a handler: every header as metadata, minus the transport's own. */
function grpcJsMetadata(headers: http2.IncomingHttpHeaders): Metadata {
  const metadata = Metadata.fromHttp2Headers(headers);
  for (const name of ['grpc-timeout', 'grpc-encoding', 'grpc-accept-encoding', 'accept-encoding', 'te', 'content-type']) metadata.remove(name);
  return metadata;
}

const HEADERS: http2.IncomingHttpHeaders = {
  ':path': '/etcdserverpb.KV/Range',
  ':method': 'POST',
  ':authority': '127.0.0.1:2379',
  'content-type': 'application/grpc',
  te: 'trailers',
  'grpc-timeout': '4999m',
  'grpc-accept-encoding': 'identity,deflate,gzip',
  'user-agent': 'grpc-go/1.26.0',
  token: 'abc.123',
  hasleader: 'true',
  'x-repeated': ['one', 'two'],
  'x-bad-later': ['fine', 'bad\u00ff', 'never'],
  'x-bad': 'caf\u00e9',
  'trace-bin': 'AAEC/w==',
  'multi-bin': 'AAE=, Ag==',
};

const KEYS = [
  'token', 'TOKEN', 'hasleader', 'authorization', 'user-agent', 'x-repeated', 'x-bad-later', 'x-bad', 'trace-bin', 'multi-bin',
  'te', 'content-type', 'grpc-timeout', 'grpc-accept-encoding', ':path', 'missing', 'Bad Key!',
];

describe('HeaderMetadata', () => {
  test('get() answers every key as grpc-js request metadata does', () => {
    for (const key of KEYS) {
      assert.deepEqual(new HeaderMetadata(HEADERS).get(key), grpcJsMetadata(HEADERS).get(key), key);
    }
  });

  test('the rest of the Metadata API sees the same entries, also after get()', () => {
    const expected = grpcJsMetadata(HEADERS);
    const lazy = new HeaderMetadata(HEADERS);
    assert.deepEqual(lazy.get('token'), ['abc.123']);
    assert.deepEqual(lazy.toJSON(), expected.toJSON());
    assert.deepEqual(lazy.getMap(), expected.getMap());
    assert.deepEqual(lazy.toHttp2Headers(), expected.toHttp2Headers());
    assert.deepEqual(lazy.clone().toJSON(), expected.toJSON());
    const merged = new Metadata();
    merged.merge(new HeaderMetadata(HEADERS));
    assert.deepEqual(merged.toJSON(), expected.toJSON(), 'merging a HeaderMetadata copies its entries');
  });

  test('changes apply on top of the headers', () => {
    const lazy = new HeaderMetadata(HEADERS);
    lazy.set('token', 'replaced');
    lazy.add('hasleader', 'false');
    lazy.remove('user-agent');
    assert.deepEqual(lazy.get('token'), ['replaced']);
    assert.deepEqual(lazy.get('hasleader'), ['true', 'false']);
    assert.deepEqual(lazy.get('user-agent'), []);
    assert.deepEqual(lazy.get('x-repeated'), ['one', 'two']);
  });
});
