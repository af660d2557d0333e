import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Client, Watch, WatchCanceledError, WatchEvent } from '../../clients/typescript/src';
import { makeTempDir, ServerProcess, startServerOfKind, stopAll } from '../support/processes';
import { skipUnlessBinaries } from '../support/skip';
import { clientTargets, newClient, nextEvent, within } from './harness';

/** Collects a watch's events until `count` have arrived (bounded). */
async function collect(watch: Watch, count: number, timeoutMs = 15_000): Promise<WatchEvent[]> {
  const events: WatchEvent[] = [];
  const done = new Promise<void>((resolve, reject) => {
    watch.on('events', (batch: WatchEvent[]) => {
      events.push(...batch);
      if (events.length >= count) resolve();
    });
    watch.once('end', () => reject(watch.error ?? new Error('watch ended')));
  });
  await within(done, timeoutMs, `${count} watch events (got ${events.length})`);
  return events;
}

/** Waits (bounded) until `all`, filled by an `events` listener, holds `count` events. */
async function untilCount(watch: Watch, all: WatchEvent[], count: number, timeoutMs: number): Promise<void> {
  if (all.length >= count) return;
  let listener: (() => void) | undefined;
  try {
    await within(
      new Promise<void>((resolve) => {
        listener = () => {
          if (all.length >= count) resolve();
        };
        watch.on('events', listener);
      }),
      timeoutMs,
      `${count} events (got ${all.length})`,
    );
  } finally {
    if (listener) watch.off('events', listener);
  }
}

for (const kind of clientTargets()) {
  describe(`latchkey-client Watch against ${kind}`, { skip: skipUnlessBinaries('etcd') }, () => {
    let server: ServerProcess;
    let client: Client;
    let dataDir: string;

    before(async () => {
      dataDir = makeTempDir(`cwatch-${kind}`);
      server = await startServerOfKind(kind, { name: `cwatch-${kind}`, dataDir });
      client = newClient([server.endpoint]);
    });
    after(async () => {
      client?.close();
      await stopAll();
    });

    test('reports puts and deletes on a prefix in revision order, with prev_kv', { timeout: 20_000 }, async () => {
      const watch = await client.watch('order/', { prefix: true, prevKv: true });
      const arrived = collect(watch, 3);
      const put1 = await client.kv.put('order/a', '1');
      const put2 = await client.kv.put('order/a', '2');
      const removed = await client.kv.delete('order/a');
      const events = await arrived;
      await watch.cancel();
      assert.deepEqual(events.map((event) => event.type), ['put', 'put', 'delete']);
      assert.deepEqual(
        events.map((event) => event.kv.modRevision),
        [put1.header.revision, put2.header.revision, removed.header.revision],
      );
      assert.equal(events[1]?.prevKv?.value.toString(), '1');
      assert.equal(events[2]?.prevKv?.value.toString(), '2');
    });

    test('replays history from startRevision and iterates as an async iterator', { timeout: 20_000 }, async () => {
      const first = await client.kv.put('replay/x', 'a');
      await client.kv.put('replay/x', 'b');
      const watch = await client.watch('replay/x', { startRevision: first.header.revision });
      const values: string[] = [];
      for await (const event of watch) {
        values.push(event.kv.value.toString());
        if (values.length === 2) break;
      }
      assert.deepEqual(values, ['a', 'b']);
      assert.equal(watch.isDone, true, 'leaving the loop cancels the watch');
    });

    test('a watch behind the compaction point ends with a compaction error', { timeout: 20_000 }, async () => {
      const old = await client.kv.put('compacted/k', 'v1');
      const newer = await client.kv.put('compacted/k', 'v2');
      await client.kv.compact(newer.header.revision);
      const watch = await client.watch('compacted/k', { startRevision: old.header.revision });
      const [error] = await nextEvent<[WatchCanceledError]>(watch, 'error');
      assert.ok(error instanceof WatchCanceledError);
      assert.equal(error.compactRevision, newer.header.revision);
      assert.match(error.message, /required revision has been compacted/);
    });

    test('resumes after the server restarts: no event missed, none repeated', { timeout: 60_000 }, async () => {
      const watch = await client.watch('resume/', { prefix: true });
      const all: WatchEvent[] = [];
      watch.on('events', (batch: WatchEvent[]) => all.push(...batch));
      const before = collect(watch, 3);
      for (let index = 1; index <= 3; index++) await client.kv.put(`resume/${index}`, `v${index}`);
      await before;

      const { clientPort, peerPort } = server;
      await server.stop('SIGTERM');
      server = await startServerOfKind(kind, { name: `cwatch-${kind}`, dataDir, clientPort, peerPort });
      // Written while the watch is still reconnecting (its backoff): it must replay them.
      const writer = newClient([server.endpoint]);
      try {
        for (let index = 4; index <= 6; index++) await writer.kv.put(`resume/${index}`, `v${index}`);
      } finally {
        writer.close();
      }
      await untilCount(watch, all, 6, 30_000);
      await client.kv.put('resume/7', 'v7');
      await untilCount(watch, all, 7, 10_000);
      await watch.cancel();
      assert.deepEqual(
        all.map((event) => event.kv.key.toString()),
        ['resume/1', 'resume/2', 'resume/3', 'resume/4', 'resume/5', 'resume/6', 'resume/7'],
      );
      const revisions = all.map((event) => event.kv.modRevision);
      for (let index = 1; index < revisions.length; index++) assert.ok(revisions[index]! > revisions[index - 1]!, 'strictly increasing revisions');
    });
  });
}
