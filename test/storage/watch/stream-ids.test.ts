import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { WatchCancelReason } from '../../../src/errors';
import { Recorder, createRequest, fixture, prefixEnd } from './harness';

describe('watch ids and created responses', () => {
  test('automatic ids start at 0 and skip an id the client asked for', () => {
    const { hub } = fixture();
    const rec = new Recorder();
    const stream = hub.openStream(rec.sink);
    stream.create(createRequest('a', { watchId: 2n }));
    for (let i = 0; i < 4; i++) stream.create(createRequest('a'));
    assert.deepEqual(
      rec.responses.map((r) => r.watchId),
      [2n, 0n, 1n, 3n, 4n],
    );
    assert.ok(rec.responses.every((r) => r.created && !r.canceled && r.events.length === 0));
    hub.close();
  });

  test('a canceled automatic id is not handed out again right away (etcd counts up)', () => {
    const { hub } = fixture();
    const rec = new Recorder();
    const stream = hub.openStream(rec.sink);
    stream.create(createRequest('a'));
    stream.cancel(0n);
    stream.create(createRequest('a'));
    assert.equal(rec.responses[2]!.watchId, 1n);
    hub.close();
  });

  test('a duplicate requested id is refused with watch id -1, created and canceled', () => {
    const { hub, history } = fixture();
    const rec = new Recorder();
    const stream = hub.openStream(rec.sink);
    stream.create(createRequest('a', { watchId: 7n }));
    stream.create(createRequest('b', { watchId: 7n }));
    assert.deepEqual(rec.responses[1], {
      headerRevision: history.currentRevision(),
      watchId: -1n,
      created: true,
      canceled: true,
      compactRevision: 0n,
      cancelReason: WatchCancelReason.duplicateId,
      fragment: false,
      events: [],
    });
    assert.equal(hub.watcherCount(), 1);
    hub.close();
  });

  test('key >= range end is refused as an empty range', () => {
    const { hub } = fixture();
    const rec = new Recorder();
    const stream = hub.openStream(rec.sink);
    stream.create(createRequest('b', { rangeEnd: Buffer.from('a') }));
    stream.create(createRequest('b', { rangeEnd: Buffer.from('b') }));
    for (const response of rec.responses) {
      assert.equal(response.watchId, -1n);
      assert.ok(response.created && response.canceled);
      assert.equal(response.cancelReason, WatchCancelReason.emptyRange);
    }
    assert.equal(hub.watcherCount(), 0);
    hub.close();
  });

  test('an empty key watches "\\0", and "" with range end "\\0" watches every key', () => {
    const { hub, history, apply } = fixture();
    const rec = new Recorder();
    const stream = hub.openStream(rec.sink);
    stream.create(createRequest(''));
    stream.create(createRequest('', { rangeEnd: Buffer.from([0]) }));
    apply(history.put('\0', 'zero'));
    apply(history.put('anything', 'x'));
    assert.deepEqual(
      rec.eventsOf(0n).map((e) => e.kv.key),
      [Buffer.from([0])],
    );
    assert.equal(rec.eventsOf(1n).length, 2);
    hub.close();
  });

  test('created responses come in request order with the current revision', () => {
    const { hub, history, apply } = fixture();
    apply(history.put('x', '1'), history.put('x', '2'));
    const rec = new Recorder();
    const stream = hub.openStream(rec.sink);
    stream.create(createRequest('a', { startRevision: 1n }));
    stream.create(createRequest('b', { rangeEnd: Buffer.from([0]) }));
    stream.create(createRequest('c', { startRevision: 99n }));
    assert.deepEqual(
      rec.responses.map((r) => [r.watchId, r.created, r.headerRevision]),
      [
        [0n, true, 3n],
        [1n, true, 3n],
        [2n, true, 3n],
      ],
    );
    hub.close();
  });

  test('the created response precedes replayed events of that watcher', async () => {
    const { hub, history, apply } = fixture();
    apply(history.put('k', '1'));
    const rec = new Recorder();
    hub.openStream(rec.sink).create(createRequest('k', { startRevision: 1n }));
    await rec.next((r) => r.events.length > 0);
    assert.equal(rec.responses[0]!.created, true);
    assert.equal(rec.responses[1]!.events[0]!.kv.value.toString(), '1');
    hub.close();
  });

  test('many watchers on one stream each get their own events', () => {
    const { hub, history, apply } = fixture();
    const rec = new Recorder();
    const stream = hub.openStream(rec.sink);
    for (let i = 0; i < 200; i++) stream.create(createRequest(`key/${i}`));
    stream.create(createRequest('key/', { rangeEnd: prefixEnd('key/') }));
    assert.equal(hub.watcherCount(), 201);
    rec.clear();
    for (let i = 0; i < 200; i++) apply(history.put(`key/${i}`, `v${i}`));
    for (let i = 0; i < 200; i++) {
      const events = rec.eventsOf(BigInt(i));
      assert.equal(events.length, 1);
      assert.equal(events[0]!.kv.value.toString(), `v${i}`);
    }
    assert.equal(rec.eventsOf(200n).length, 200);
    hub.close();
  });

  test('two streams are independent: ids, events and cancel', () => {
    const { hub, history, apply } = fixture();
    const first = new Recorder();
    const second = new Recorder();
    const streamA = hub.openStream(first.sink);
    const streamB = hub.openStream(second.sink);
    streamA.create(createRequest('a'));
    streamB.create(createRequest('a'));
    assert.equal(first.responses[0]!.watchId, 0n);
    assert.equal(second.responses[0]!.watchId, 0n);
    streamA.cancel(0n);
    apply(history.put('a', '1'));
    assert.equal(first.eventsOf(0n).length, 0);
    assert.equal(second.eventsOf(0n).length, 1);
    streamB.close();
    assert.equal(hub.watcherCount(), 0);
    hub.close();
  });

  test('a stream refuses watchers beyond its limit', () => {
    const { hub } = fixture({ maxWatchersPerStream: 2 });
    const rec = new Recorder();
    const stream = hub.openStream(rec.sink);
    for (let i = 0; i < 3; i++) stream.create(createRequest('a'));
    assert.deepEqual(
      rec.responses.map((r) => [r.watchId, r.canceled]),
      [
        [0n, false],
        [1n, false],
        [-1n, true],
      ],
    );
    hub.close();
  });
});
