import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { ClientServer } from '../../src/api/client-server';
import { silentLogger } from '../../src/log';
import { RpcError } from '../support/etcd-client';
import { ctx, rangeOf, startInProcess } from '../server/member-harness';
import { ConcurrencyClient } from './concurrency-client';
import { awaitEvent, isPutOf } from './member-events';

describe('a server that stops while Lock, Campaign and Observe wait', () => {
  test('answers them UNAVAILABLE "etcdserver: server stopped" promptly and withdraws the waiting keys', async () => {
    const m = await startInProcess();
    const server = new ClientServer(m.port, silentLogger());
    let live: ConcurrencyClient | undefined;
    try {
      await server.listen(['http://127.0.0.1:0']);
      live = new ConcurrencyClient(`127.0.0.1:${server.ports[0]!}`);
      const [a, b, c] = await Promise.all([0, 1, 2].map(async () => (await m.port.lease.grant(60n, 0n, ctx)).result.id));
      await live.lock('S', a!.toString());
      const waitingLock = live.lock('S', b!.toString(), { deadlineMs: 30_000 });
      await live.campaign('SE', a!.toString(), 'leader');
      const waitingCampaign = live.campaign('SE', c!.toString(), 'next', { deadlineMs: 30_000 });
      const observer = live.observe('SE');
      assert.equal((await observer.next()).kv.value.toString(), 'leader');
      await awaitEvent(m, 'S/', isPutOf(Buffer.from(`S/${b!.toString(16)}`)));
      await awaitEvent(m, 'SE/', isPutOf(Buffer.from(`SE/${c!.toString(16)}`)));

      const closing = server.close();
      const stopped = (err: unknown): boolean => {
        assert.ok(err instanceof RpcError, String(err));
        assert.equal(err.code, 14);
        assert.equal(err.details, 'etcdserver: server stopped');
        return true;
      };
      await assert.rejects(waitingLock, stopped);
      await assert.rejects(waitingCampaign, stopped);
      await assert.rejects(observer.next(), stopped);
      await closing;
      const left = await m.port.kv.range(rangeOf('S', 'T'), ctx);
      assert.deepEqual(left.result.kvs.map((kv) => kv.key.toString()).sort(), [`S/${a!.toString(16)}`, `SE/${a!.toString(16)}`]);
    } finally {
      live?.close();
      await server.close();
      await m.stop();
      fs.rmSync(m.dataDir, { recursive: true, force: true });
    }
  });
});
