import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import type { WatchResponse } from '../../../src/storage/mvcc/watch/types';
import type { HubWatchStream } from '../../../src/storage/mvcc/watch';
import { Recorder, afterImmediate, createRequest, fixture } from './harness';

async function untilCaughtUp(hub: { catchingUpCount(): number }): Promise<void> {
  for (let turn = 0; hub.catchingUpCount() > 0; turn++) {
    assert.ok(turn < 10_000, 'catch-up never finished');
    await afterImmediate();
  }
}

describe('bounds', () => {
  test('a replay response is cut at a revision boundary once it holds maxPendingEventsPerWatcher events', async () => {
    const { hub, history, apply } = fixture({ maxPendingEventsPerWatcher: 10 });
    for (let i = 0; i < 12; i++) apply(history.txn([{ put: 'k1', value: `${i}` }, { put: 'k2', value: `${i}` }]));
    const rec = new Recorder();
    hub.openStream(rec.sink).create(createRequest('k', { rangeEnd: Buffer.from('l'), startRevision: 1n }));
    await untilCaughtUp(hub);
    const batches = rec.ofWatcher(0n).filter((r) => r.events.length > 0);
    assert.deepEqual(
      batches.map((r) => r.events.length),
      [10, 10, 4],
    );
    assert.equal(batches.flatMap((r) => r.events).length, 24);
    hub.close();
  });

  test('more unsynced watchers than one catch-up pass serves all catch up', async () => {
    const { hub, history, apply } = fixture();
    apply(history.put('k', 'v'));
    const rec = new Recorder();
    const stream = hub.openStream(rec.sink);
    for (let i = 0; i < 1300; i++) stream.create(createRequest('k', { startRevision: 2n }));
    await untilCaughtUp(hub);
    for (let i = 0; i < 1300; i++) assert.equal(rec.eventsOf(BigInt(i)).length, 1);
    apply(history.put('k', 'w'));
    for (let i = 0; i < 1300; i++) assert.equal(rec.eventsOf(BigInt(i)).length, 2);
    hub.close();
  });

  test('a sink that cancels another watcher while receiving an event silences it at once', () => {
    const { hub, history, apply } = fixture();
    let stream: HubWatchStream | undefined;
    const responses: WatchResponse[] = [];
    stream = hub.openStream((response) => {
      responses.push(response);
      if (response.watchId === 0n && response.events.length > 0) stream?.cancel(1n);
    });
    stream.create(createRequest('k'));
    stream.create(createRequest('k'));
    apply(history.put('k', 'v'));
    assert.deepEqual(
      responses.map((r) => [r.watchId, r.created, r.canceled, r.events.length]),
      [
        [0n, true, false, 0],
        [1n, true, false, 0],
        [0n, false, false, 1],
        [1n, false, true, 0],
      ],
    );
    hub.close();
  });

  test('notify refuses revisions out of order or not yet in history (programmer errors)', () => {
    const { hub, history } = fixture();
    const first = history.put('k', '1');
    const second = history.put('k', '2');
    hub.notify([first, second]);
    assert.throws(() => hub.notify([first]), /out of order/);
    const ahead = { revision: history.currentRevision() + 1n, events: [{ ...first.events[0]!, kv: { ...first.events[0]!.kv, modRevision: history.currentRevision() + 1n } }] };
    assert.throws(() => hub.notify([ahead]), /before history holds it/);
    hub.close();
  });
});
