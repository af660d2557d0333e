import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import type { WatchResponse } from '../../../src/storage/mvcc/watch/types';
import { Recorder, createRequest, fixture } from './harness';

const INTERVAL_MS = 50;

function isProgress(watchId: bigint): (r: WatchResponse) => boolean {
  return (r) => r.watchId === watchId && !r.created && !r.canceled && r.events.length === 0;
}

describe('progress_notify', () => {
  test('an idle synced watcher with progress_notify gets {watch_id, header.revision=current} each interval', async () => {
    const { hub, history, apply } = fixture({ progressIntervalMs: INTERVAL_MS, random: () => 0 });
    apply(history.put('k', '1'));
    const rec = new Recorder();
    const stream = hub.openStream(rec.sink);
    stream.create(createRequest('k', { progressNotify: true }));
    stream.create(createRequest('k')); // no flag: never gets one
    apply(history.put('other', 'x'));
    const progress = await rec.next(isProgress(0n));
    assert.deepEqual(progress, {
      headerRevision: 3n,
      watchId: 0n,
      created: false,
      canceled: false,
      compactRevision: 0n,
      cancelReason: '',
      fragment: false,
      events: [],
    });
    assert.equal(rec.ofWatcher(1n).length, 1);
    hub.close();
  });

  test('the tick after an event is skipped, the next one is sent', async () => {
    const { hub, history, apply } = fixture({ progressIntervalMs: INTERVAL_MS, random: () => 0 });
    const rec = new Recorder();
    const stream = hub.openStream(rec.sink);
    stream.create(createRequest('k', { progressNotify: true }));
    await rec.next(isProgress(0n));
    rec.clear();
    apply(history.put('k', 'v')); // right after a tick
    const eventAt = performance.now();
    const next = await rec.next(isProgress(0n));
    const waitedMs = performance.now() - eventAt;
    assert.ok(waitedMs >= 1.5 * INTERVAL_MS, `progress came ${waitedMs} ms after the event`);
    assert.equal(next.headerRevision, 2n);
    assert.equal(rec.responses.length, 2); // the event, then this notification
    hub.close();
  });

  test('a stream that cannot keep up gets no progress; after resume its watcher catches up and gets them again', async () => {
    const { hub, history, apply } = fixture({ progressIntervalMs: INTERVAL_MS, random: () => 0 });
    const clock = new Recorder();
    hub.openStream(clock.sink).create(createRequest('clock', { progressNotify: true }));
    const rec = new Recorder();
    const stream = hub.openStream(rec.sink);
    stream.create(createRequest('k', { progressNotify: true }));
    stream.pause();
    apply(history.put('k', 'missed'));
    // Two ticks of the other stream: at least one full interval of this one went by.
    await clock.next(isProgress(0n));
    clock.clear();
    await clock.next(isProgress(0n));
    assert.deepEqual(rec.responses.map((r) => r.created), [true]);
    stream.resume();
    await rec.next((r) => r.events.length === 1);
    await rec.next(isProgress(0n));
    hub.close();
  });
});

describe('hub close', () => {
  test('close stops every timer and loop: the process exits by itself', async () => {
    const script = path.join(__dirname, 'fixtures', 'hub-close-exits.js');
    const child = spawn(process.execPath, [script], { stdio: ['ignore', 'pipe', 'inherit'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    const code = await new Promise<number | null>((resolve) => child.on('exit', (exitCode) => resolve(exitCode)));
    clearTimeout(killer);
    assert.equal(output, 'closed\n');
    assert.equal(code, 0, 'child did not exit on its own');
  });
});
