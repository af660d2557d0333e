import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeWatchResponse, watchResponseToWire } from '../../src/api/codec/watch-wire';
import { messageType } from '../../src/api/codec/proto-root';
import type { ResponseHeader } from '../../src/api/member-port';
import { EventType, type Event } from '../../src/storage/mvcc/types';
import type { WatchResponse } from '../../src/storage/mvcc/watch/types';
import { SAMPLE_HEADERS, protobufjsBytes } from './encoder-fixtures';

const NO_FRAGMENTS = 2 ** 30;

function response(overrides: Partial<WatchResponse>): WatchResponse {
  return { headerRevision: 0n, watchId: 0n, created: false, canceled: false, compactRevision: 0n, cancelReason: '', fragment: false, events: [], ...overrides };
}

function put(key: string, revision: bigint): Event {
  return {
    type: EventType.PUT,
    kv: { key: Buffer.from(key), value: Buffer.from(`v-${key}`), createRevision: revision, modRevision: revision, version: 1n, lease: 0n },
  };
}

function protobufjsWatch(header: ResponseHeader, r: WatchResponse): Buffer {
  return protobufjsBytes('etcdserverpb.WatchResponse', watchResponseToWire(header, r));
}

describe('watch response encoding', () => {
  const headers = SAMPLE_HEADERS;
  const responses: WatchResponse[] = [
    response({ headerRevision: 42n, watchId: 3n, events: [put('a', 42n)] }),
    response({ watchId: 0n, events: [put('b', 5n), put('c', 6n)] }),
    response({ watchId: -1n }),
    response({ watchId: 9n, created: true }),
    response({ watchId: -1n, created: true, canceled: true, cancelReason: 'etcdserver: permission denied ✓' }),
    response({ watchId: 2n ** 63n - 1n, canceled: true, compactRevision: 17n }),
  ];

  test('gives the bytes protobufjs gives, for every kind of response and header', () => {
    for (const header of headers) {
      for (const r of responses) {
        const parts = encodeWatchResponse(header, r, NO_FRAGMENTS);
        assert.equal(parts.length, 1);
        assert.deepEqual(parts[0], protobufjsWatch(header, r), `watch ${r.watchId} at revision ${header.revision}`);
      }
    }
  });

  test('a fan-out of one revision to many watchers differs only in watch_id, and decodes back', () => {
    const header = headers[0]!;
    const event = put('fan', 42n);
    const type = messageType('etcdserverpb.WatchResponse');
    for (let watchId = 0n; watchId < 50n; watchId++) {
      const [bytes] = encodeWatchResponse(header, response({ watchId, events: [event] }), NO_FRAGMENTS);
      const decoded = type.toObject(type.decode(bytes!), { longs: String }) as { watch_id?: string; header: { revision: string }; events: unknown[] };
      assert.equal(decoded.watch_id ?? '0', watchId.toString());
      assert.equal(decoded.header.revision, header.revision.toString());
      assert.equal(decoded.events.length, 1);
    }
  });

  test('fragments carry fragment=true on every part but the last', () => {
    const header = headers[0]!;
    const events = Array.from({ length: 10 }, (_, i) => put(`k${i}`.padEnd(200, 'x'), BigInt(100 + i)));
    const parts = encodeWatchResponse(header, response({ watchId: 4n, fragment: true, events }), 1_000);
    assert.ok(parts.length > 1);
    const type = messageType('etcdserverpb.WatchResponse');
    const decoded = parts.map((p) => type.toObject(type.decode(p)) as { fragment?: boolean; events: unknown[] });
    assert.deepEqual(decoded.map((d) => d.fragment === true), parts.map((_, i) => i < parts.length - 1));
    assert.equal(decoded.reduce((n, d) => n + d.events.length, 0), events.length);
  });
});
