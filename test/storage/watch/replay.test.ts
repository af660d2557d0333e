import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { Recorder, afterImmediate, createRequest, fixture, prefixEnd } from './harness';

describe('replay from a past revision', () => {
  test('replays history from the start revision inclusive, then live events', async () => {
    const { hub, history, apply } = fixture();
    for (let i = 2; i <= 5; i++) apply(history.put('k', `r${i}`)); // revisions 2..5
    const rec = new Recorder();
    hub.openStream(rec.sink).create(createRequest('k', { startRevision: 3n, prevKv: true }));
    const replay = await rec.next((r) => r.events.length > 0);
    assert.equal(replay.headerRevision, 5n);
    assert.deepEqual(
      replay.events.map((e) => e.kv.value.toString()),
      ['r3', 'r4', 'r5'],
    );
    assert.equal(replay.events[0]!.prevKv?.value.toString(), 'r2');
    apply(history.put('k', 'r6'));
    assert.deepEqual(
      rec.eventsOf(0n).map((e) => e.kv.modRevision),
      [3n, 4n, 5n, 6n],
    );
    hub.close();
  });

  test('a start revision with nothing to replay joins the live path without an empty response', async () => {
    const { hub, history, apply } = fixture();
    apply(history.put('other', '1'));
    const rec = new Recorder();
    hub.openStream(rec.sink).create(createRequest('k', { startRevision: 1n }));
    await afterImmediate();
    await afterImmediate();
    assert.equal(rec.responses.length, 1);
    apply(history.put('k', 'v'));
    assert.deepEqual(rec.eventsOf(0n).map((e) => e.kv.modRevision), [3n]);
    hub.close();
  });

  test('more than 1000 revisions arrive complete, in order, in batches of at most 1000, with no gap while writes continue', async () => {
    const { hub, history, apply } = fixture();
    const total = 2500;
    for (let i = 0; i < total; i++) {
      apply(history.txn([{ put: `p/${i % 7}`, value: `${i}` }, { put: `p/x${i % 3}`, value: `${i}` }]));
    }
    const rec = new Recorder();
    const stream = hub.openStream(rec.sink);
    stream.create(createRequest('p/', { rangeEnd: prefixEnd('p/'), startRevision: 2n }));
    // Writes keep landing, one per turn of the event loop, until the watcher has seen the newest.
    const caughtUp = (): boolean => {
      const events = rec.eventsOf(0n);
      return events.length > 0 && events[events.length - 1]!.kv.modRevision === history.currentRevision();
    };
    let written = 0;
    while (!caughtUp()) {
      assert.ok(written < 5000, 'catch-up did not finish');
      apply(history.put(`p/live${written}`, 'v'));
      written += 1;
      await afterImmediate();
    }
    assert.ok(written >= 3, `only ${written} writes landed during catch-up`);
    for (let i = 0; i < 20; i++) apply(history.put(`p/after${i}`, 'v'));
    const revisions = rec.eventsOf(0n).map((e) => e.kv.modRevision);
    const expected: bigint[] = [];
    for (let revision = 2n; revision <= history.currentRevision(); revision++) {
      expected.push(revision);
      if (revision <= BigInt(total + 1)) expected.push(revision); // the txns have two events
    }
    assert.deepEqual(revisions, expected);
    for (const response of rec.ofWatcher(0n)) {
      const distinct = new Set(response.events.map((e) => e.kv.modRevision));
      assert.ok(distinct.size <= 1000, `batch of ${distinct.size} revisions`);
    }
    assert.ok(rec.ofWatcher(0n).filter((r) => r.events.length > 0).length >= 3);
    assert.ok(history.reads.every((read) => read.to - read.from < 1000n));
    hub.close();
  });

  test('replay batches count only revisions of the watched key (etcd groups by the watcher\'s revisions)', async () => {
    const { hub, history, apply } = fixture();
    apply(history.put('k', 'first')); // revision 2
    for (let i = 0; i < 3000; i++) apply(history.put('noise', `${i}`));
    apply(history.put('k', 'second'));
    const rec = new Recorder();
    hub.openStream(rec.sink).create(createRequest('k', { startRevision: 1n }));
    const replay = await rec.next((r) => r.events.length > 0);
    assert.deepEqual(
      replay.events.map((e) => e.kv.value.toString()),
      ['first', 'second'],
    );
    assert.equal(replay.headerRevision, history.currentRevision());
    hub.close();
  });

  test('filters apply to replayed events too', async () => {
    const { hub, history, apply } = fixture();
    apply(history.put('k', '1'), history.del('k'), history.put('k', '2'));
    const rec = new Recorder();
    hub.openStream(rec.sink).create(createRequest('k', { startRevision: 1n, filters: [0] }));
    const replay = await rec.next((r) => r.events.length > 0);
    assert.deepEqual(replay.events.map((e) => e.kv.modRevision), [3n]);
    hub.close();
  });
});

describe('compaction', () => {
  test('a start below the compacted revision is created, then canceled with compact_revision and header 0', async () => {
    const { hub, history, apply } = fixture();
    for (let i = 0; i < 9; i++) apply(history.put('k', `${i}`)); // current 10
    history.compact(6n);
    hub.compacted(6n);
    const rec = new Recorder();
    const stream = hub.openStream(rec.sink);
    stream.create(createRequest('k', { startRevision: 5n }));
    assert.equal(rec.responses[0]!.created, true);
    assert.equal(rec.responses[0]!.watchId, 0n);
    const cancel = await rec.next((r) => r.canceled);
    assert.deepEqual(cancel, {
      headerRevision: 0n,
      watchId: 0n,
      created: false,
      canceled: true,
      compactRevision: 6n,
      cancelReason: '',
      fragment: false,
      events: [],
    });
    assert.equal(hub.watcherCount(), 0);
    apply(history.put('k', 'later'));
    assert.equal(rec.responses.length, 2);
    // As in etcd the id stays taken until the client cancels it; that cancel is acknowledged.
    stream.create(createRequest('k'));
    assert.equal(rec.responses[2]!.watchId, 1n);
    stream.cancel(0n);
    assert.equal(rec.responses[3]!.canceled, true);
    assert.equal(rec.responses[3]!.watchId, 0n);
    hub.close();
  });

  test('a start equal to the compacted revision replays from it', async () => {
    const { hub, history, apply } = fixture();
    for (let i = 0; i < 9; i++) apply(history.put('k', `${i}`));
    history.compact(6n);
    hub.compacted(6n);
    const rec = new Recorder();
    hub.openStream(rec.sink).create(createRequest('k', { startRevision: 6n }));
    const replay = await rec.next((r) => r.events.length > 0);
    assert.deepEqual(replay.events.map((e) => e.kv.modRevision), [6n, 7n, 8n, 9n, 10n]);
    hub.close();
  });

  test('a compaction that overtakes a paused watcher cancels it once its stream resumes', async () => {
    const { hub, history, apply } = fixture();
    const rec = new Recorder();
    const stream = hub.openStream(rec.sink);
    stream.create(createRequest('k'));
    stream.pause();
    apply(history.put('k', '1'), history.put('k', '2'), history.put('k', '3'));
    assert.equal(rec.responses.length, 1);
    history.compact(4n);
    hub.compacted(4n);
    stream.resume();
    const cancel = await rec.next((r) => r.canceled);
    assert.equal(cancel.compactRevision, 4n);
    assert.equal(rec.eventsOf(0n).length, 0);
    hub.close();
  });
});

describe('flow control', () => {
  test('a paused stream buffers nothing and gets every missed event on resume, then live ones', async () => {
    const { hub, history, apply } = fixture();
    const rec = new Recorder();
    const stream = hub.openStream(rec.sink);
    stream.create(createRequest('k'));
    stream.create(createRequest('j'));
    apply(history.put('k', '1'));
    stream.pause();
    apply(history.put('k', '2'), history.put('j', 'a'), history.put('k', '3'));
    await afterImmediate();
    assert.equal(rec.eventsOf(0n).length, 1);
    stream.resume();
    await rec.next((r) => r.watchId === 1n && r.events.length > 0);
    await rec.next((r) => r.watchId === 0n && r.events.length > 0 && r.events.some((e) => e.kv.modRevision === 5n));
    apply(history.put('k', '4'));
    assert.deepEqual(rec.eventsOf(0n).map((e) => e.kv.value.toString()), ['1', '2', '3', '4']);
    assert.deepEqual(rec.eventsOf(1n).map((e) => e.kv.value.toString()), ['a']);
    hub.close();
  });
});
