import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { post } from '../gateway/http-client';
import { EtcdClient } from '../support/etcd-client';
import { makeTempDir, startLatchkey, stopAll, type ServerProcess } from '../support/processes';

/** Enough data that one defragment (copy, reopen) takes a noticeable while. */
const KEYS = 6_000;
const VALUE = Buffer.alloc(2048, 'v');
const BATCH = 200;
/** Defragments queued at once: each waits for the one before it. */
const QUEUED = 4;

async function fill(client: EtcdClient): Promise<void> {
  for (let start = 0; start < KEYS; start += BATCH) {
    const puts = [];
    for (let i = start; i < Math.min(KEYS, start + BATCH); i += 1) puts.push(client.put({ key: Buffer.from(`d/${i}`), value: VALUE }));
    await Promise.all(puts);
  }
}

const defragment = (client: EtcdClient): Promise<unknown> => client.call('Maintenance', 'Defragment', {}, { deadlineMs: 60_000 });

describe('defragment beside other defragments, writes and a shutdown', () => {
  after(stopAll);

  test('defragments asked for at once all succeed while puts go on', async () => {
    const server = await startLatchkey({ name: 'defrag-many' });
    const client = new EtcdClient(server.endpoint);
    try {
      await fill(client);
      const outcomes = await Promise.allSettled([
        ...Array.from({ length: QUEUED }, () => defragment(client)),
        ...Array.from({ length: 50 }, (_unused, i) => client.put({ key: Buffer.from(`during/${i}`), value: Buffer.from('x') })),
      ]);
      const failed = outcomes.filter((o) => o.status === 'rejected').map((o) => String((o as PromiseRejectedResult).reason));
      assert.deepEqual(failed, []);
      const during = await client.range({ key: Buffer.from('during/'), range_end: Buffer.from('during0'), count_only: true });
      assert.equal(Number(during.count), 50);
    } finally {
      client.close();
      await server.stop();
    }
  });

  test('SIGTERM while defragments run: the member finishes them, answers, exits 0, and restarts with every key', async () => {
    const dataDir = makeTempDir('defrag-stop');
    let server: ServerProcess = await startLatchkey({ name: 'defrag-stop', dataDir });
    const client = new EtcdClient(server.endpoint);
    let exit: Awaited<ReturnType<ServerProcess['stop']>>;
    try {
      await fill(client);
      // Over the gateway: an HTTP request cut by the shutdown would fail with a socket error.
      const answers = Array.from({ length: QUEUED }, () => post(server.clientPort, '/v3/maintenance/defragment', {}));
      // The first answer means the next defragment is running or about to: stop now.
      await Promise.race(answers);
      exit = await server.stop('SIGTERM');
      const settled = await Promise.allSettled(answers);
      for (const outcome of settled) {
        assert.equal(outcome.status, 'fulfilled', `a defragment in flight at SIGTERM was cut: ${String((outcome as PromiseRejectedResult).reason)}`);
        const { status, body } = (outcome as PromiseFulfilledResult<{ status: number; body: string }>).value;
        // Answered: done (200) or refused as etcd refuses calls to a stopping server.
        assert.ok(status === 200 || /server stopped/.test(body), `answer ${status} ${body}`);
      }
    } finally {
      client.close();
    }
    assert.deepEqual({ code: exit.code, signal: exit.signal }, { code: 0, signal: null }, server.output().slice(-2000));
    server = await startLatchkey({ name: 'defrag-stop', dataDir });
    const again = new EtcdClient(server.endpoint);
    try {
      const count = await again.range({ key: Buffer.from('d/'), range_end: Buffer.from('d0'), count_only: true });
      assert.equal(Number(count.count), KEYS);
    } finally {
      again.close();
      await server.stop();
    }
  });
});
