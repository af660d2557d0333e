import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { EventType } from '../../../src/storage/mvcc/types';
import { WatchFilter } from '../../../src/storage/mvcc/watch/types';
import { Recorder, afterImmediate, createRequest, fixture, keyOf, prefixEnd } from './harness';

describe('live events', () => {
  test('start revision 0 sees only changes after the current revision, one response per revision', () => {
    const { hub, history, apply } = fixture();
    apply(history.put('k', 'before'));
    const rec = new Recorder();
    hub.openStream(rec.sink).create(createRequest('k'));
    apply(history.put('k', 'after'));
    apply(history.put('other', 'x'));
    apply(history.del('k'));
    const responses = rec.ofWatcher(0n).filter((r) => !r.created);
    assert.deepEqual(
      responses.map((r) => [r.headerRevision, r.events.length]),
      [
        [3n, 1],
        [5n, 1],
      ],
    );
    const [put, del] = responses.map((r) => r.events[0]!);
    assert.equal(put!.type, EventType.PUT);
    assert.equal(put!.kv.value.toString(), 'after');
    assert.equal(put!.kv.version, 2n);
    assert.equal(del!.type, EventType.DELETE);
    assert.equal(del!.kv.modRevision, 5n);
    hub.close();
  });

  test('a txn with two puts in the watched range arrives as one response with two events', () => {
    const { hub, history, apply } = fixture();
    const rec = new Recorder();
    hub.openStream(rec.sink).create(createRequest('lock/', { rangeEnd: prefixEnd('lock/') }));
    apply(
      history.txn([
        { put: 'lock/a', value: '1' },
        { put: 'outside', value: '2' },
        { put: 'lock/b', value: '3' },
      ]),
    );
    const responses = rec.ofWatcher(0n).filter((r) => !r.created);
    assert.equal(responses.length, 1);
    assert.equal(responses[0]!.headerRevision, 2n);
    assert.deepEqual(responses[0]!.events.map(keyOf), ['lock/a', 'lock/b']);
    hub.close();
  });

  test('several revisions in one notify batch give one response per revision', () => {
    const { hub, history, apply } = fixture();
    const rec = new Recorder();
    hub.openStream(rec.sink).create(createRequest('k'));
    apply(history.put('k', '1'), history.put('k', '2'), history.put('k', '3'));
    assert.deepEqual(
      rec.ofWatcher(0n).filter((r) => !r.created).map((r) => r.headerRevision),
      [2n, 3n, 4n],
    );
    hub.close();
  });

  test('range kinds: prefix, from-key and interval', () => {
    const { hub, history, apply } = fixture();
    const rec = new Recorder();
    const stream = hub.openStream(rec.sink);
    stream.create(createRequest('b', { rangeEnd: Buffer.from([0]) })); // 0: from "b"
    stream.create(createRequest('a', { rangeEnd: Buffer.from('c') })); // 1: [a, c)
    for (const key of ['a', 'b', 'bz', 'c', 'd']) apply(history.put(key, 'v'));
    assert.deepEqual(rec.eventsOf(0n).map(keyOf), ['b', 'bz', 'c', 'd']);
    assert.deepEqual(rec.eventsOf(1n).map(keyOf), ['a', 'b', 'bz']);
    hub.close();
  });

  test('prevKv is sent only when asked, never on a creation event, and on deletes is the last value', () => {
    const { hub, history, apply } = fixture();
    const rec = new Recorder();
    const stream = hub.openStream(rec.sink);
    stream.create(createRequest('k', { prevKv: true }));
    stream.create(createRequest('k'));
    apply(history.put('k', 'v1'));
    apply(history.put('k', 'v2'));
    apply(history.del('k'));
    const withPrev = rec.eventsOf(0n);
    assert.equal(withPrev[0]!.prevKv, undefined);
    assert.equal(withPrev[1]!.prevKv?.value.toString(), 'v1');
    assert.equal(withPrev[2]!.prevKv?.value.toString(), 'v2');
    assert.ok(rec.eventsOf(1n).every((e) => e.prevKv === undefined));
    assert.equal(rec.eventsOf(1n).length, 3);
    hub.close();
  });

  test('NOPUT and NODELETE filters; a revision whose events are all filtered sends nothing', () => {
    const { hub, history, apply } = fixture();
    const rec = new Recorder();
    const stream = hub.openStream(rec.sink);
    stream.create(createRequest('k', { filters: [WatchFilter.NOPUT] }));
    stream.create(createRequest('k', { filters: [WatchFilter.NODELETE] }));
    apply(history.put('k', '1'));
    apply(history.del('k'));
    assert.deepEqual(
      rec.ofWatcher(0n).filter((r) => !r.created).map((r) => r.events.map((e) => e.type)),
      [[EventType.DELETE]],
    );
    assert.deepEqual(
      rec.ofWatcher(1n).filter((r) => !r.created).map((r) => r.events.map((e) => e.type)),
      [[EventType.PUT]],
    );
    hub.close();
  });

  test('a start revision in the future waits for that revision', () => {
    const { hub, history, apply } = fixture();
    const rec = new Recorder();
    hub.openStream(rec.sink).create(createRequest('k', { startRevision: 4n }));
    apply(history.put('k', 'r2'));
    apply(history.put('k', 'r3'));
    apply(history.put('k', 'r4'));
    assert.deepEqual(
      rec.eventsOf(0n).map((e) => e.kv.value.toString()),
      ['r4'],
    );
    hub.close();
  });

  test('fragment is carried from the request onto event responses', () => {
    const { hub, history, apply } = fixture();
    const rec = new Recorder();
    hub.openStream(rec.sink).create(createRequest('k', { fragment: true }));
    apply(history.put('k', 'v'));
    assert.equal(rec.responses[1]!.fragment, true);
    hub.close();
  });

  test('subscribers of one key share the event objects (no copy per watcher)', () => {
    const { hub, history, apply } = fixture();
    const rec = new Recorder();
    const stream = hub.openStream(rec.sink);
    stream.create(createRequest('k'));
    stream.create(createRequest('k'));
    apply(history.put('k', '1'));
    apply(history.put('k', '2'));
    const [a, b] = [rec.eventsOf(0n), rec.eventsOf(1n)];
    assert.equal(a[1], b[1]);
    hub.close();
  });
});

describe('cancel, progress request and close', () => {
  test('cancel is acknowledged with the current revision and the watcher goes silent', () => {
    const { hub, history, apply } = fixture();
    apply(history.put('k', '1'));
    const rec = new Recorder();
    const stream = hub.openStream(rec.sink);
    stream.create(createRequest('k'));
    stream.cancel(0n);
    assert.deepEqual(rec.responses[1], {
      headerRevision: 2n,
      watchId: 0n,
      created: false,
      canceled: true,
      compactRevision: 0n,
      cancelReason: '',
      fragment: false,
      events: [],
    });
    apply(history.put('k', '2'));
    stream.cancel(0n);
    stream.cancel(42n);
    assert.equal(rec.responses.length, 2);
    assert.equal(hub.watcherCount(), 0);
    hub.close();
  });

  test('a watcher canceled while catching up sends nothing more', async () => {
    const { hub, history, apply } = fixture();
    for (let i = 0; i < 5; i++) apply(history.put('k', `${i}`));
    const rec = new Recorder();
    const stream = hub.openStream(rec.sink);
    stream.create(createRequest('k', { startRevision: 1n }));
    stream.cancel(0n);
    await afterImmediate();
    await afterImmediate();
    assert.deepEqual(
      rec.responses.map((r) => [r.created, r.canceled, r.events.length]),
      [
        [true, false, 0],
        [false, true, 0],
      ],
    );
    hub.close();
  });

  test('a progress request gets one response with watch id -1 and the current revision', () => {
    const { hub, history, apply } = fixture();
    apply(history.put('k', '1'), history.put('k', '2'));
    const rec = new Recorder();
    const stream = hub.openStream(rec.sink);
    stream.requestProgress();
    assert.deepEqual(rec.responses, [
      {
        headerRevision: 3n,
        watchId: -1n,
        created: false,
        canceled: false,
        compactRevision: 0n,
        cancelReason: '',
        fragment: false,
        events: [],
      },
    ]);
    hub.close();
  });

  test('closing a stream drops its watchers and nothing is sent afterwards', () => {
    const { hub, history, apply } = fixture();
    const rec = new Recorder();
    const stream = hub.openStream(rec.sink);
    stream.create(createRequest('k'));
    stream.create(createRequest('k', { startRevision: 1n }));
    stream.close();
    assert.equal(hub.watcherCount(), 0);
    const count = rec.responses.length;
    apply(history.put('k', '1'));
    stream.create(createRequest('k'));
    stream.requestProgress();
    stream.cancel(0n);
    assert.equal(rec.responses.length, count);
    hub.close();
  });
});
