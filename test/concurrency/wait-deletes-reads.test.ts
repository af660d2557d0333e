import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import type { Answer, KvPort, MemberPort, RequestContext } from '../../src/api/member-port';
import { ServerMutex } from '../../src/concurrency/mutex';
import { silentLogger } from '../../src/log';
import type { RangeRequest, RangeResult } from '../../src/storage/mvcc/types';
import { ctx, rangeOf, startInProcess, type InProcessMember } from '../server/member-harness';
import { awaitEvent, isPutOf, isSettled } from './member-events';

/**
 * A waiter reads the keys ahead of it from its member's own store when that store is at or
 * past its key's revision (no ReadIndex round), and linearizably otherwise. What a user sees:
 * the lock is granted in queue order either way, and never while an older key remains.
 */
describe('v3lock waiters read the queue locally only when the store has their key', () => {
  let m: InProcessMember;
  before(async () => {
    m = await startInProcess();
  });
  after(async () => {
    await m.stop();
    fs.rmSync(m.dataDir, { recursive: true, force: true });
  });

  const grant = async (): Promise<bigint> => (await m.port.lease.grant(60n, 0n, ctx)).result.id;

  /** The member's port, with every Range under `prefix` recorded and optionally rewritten. */
  function recordingPort(prefix: string, rewrite?: (answer: Answer<RangeResult>, req: RangeRequest) => Answer<RangeResult>): { port: MemberPort; reads: RangeRequest[] } {
    const reads: RangeRequest[] = [];
    const inner = m.port.kv;
    const kv: KvPort = {
      range: async (req: RangeRequest, rctx: RequestContext) => {
        const answer = await inner.range(req, rctx);
        if (!req.key.toString().startsWith(prefix)) return answer;
        reads.push(req);
        return rewrite === undefined ? answer : rewrite(answer, req);
      },
      put: (req, rctx) => inner.put(req, rctx),
      deleteRange: (req, rctx) => inner.deleteRange(req, rctx),
      txn: (req, rctx) => inner.txn(req, rctx),
      compact: (req, rctx) => inner.compact(req, rctx),
    };
    return { port: { ...m.port, kv }, reads };
  }

  async function contend(name: string, waiterPort: MemberPort): Promise<void> {
    const [a, b] = [await grant(), await grant()];
    const holder = new ServerMutex(m.port, silentLogger());
    const waiter = new ServerMutex(waiterPort, silentLogger());
    const first = await holder.lock(Buffer.from(name), a, ctx);
    const second = waiter.lock(Buffer.from(name), b, ctx);
    await awaitEvent(m, `${name}/`, isPutOf(Buffer.from(`${name}/${b.toString(16)}`)));
    // The waiter's first read has had every chance to run; it must still be waiting.
    await m.port.kv.range(rangeOf(`${name}/`), ctx);
    assert.equal(await isSettled(second), false, 'the waiter must wait while the holder holds');
    const released = await holder.unlock(first.key, ctx);
    const held = await second;
    assert.ok(held.header.revision >= released.revision, 'granted no earlier than the release');
    assert.ok(held.createRevision > first.createRevision);
    await waiter.unlock(held.key, ctx);
  }

  test('a store at or past the waiter\'s key is read locally: no ReadIndex round per read', async () => {
    const { port, reads } = recordingPort('local/');
    await contend('local', port);
    assert.ok(reads.length >= 2, `expected the read before and after the wait, saw ${reads.length}`);
    assert.deepEqual(reads.map((r) => r.serializable), reads.map(() => true));
  });

  test('a store that looks behind the waiter\'s key is read again linearizably before anything is decided', async () => {
    // Every local read answers as if the store had not applied the waiter's own txn yet.
    const { port, reads } = recordingPort('behind/', (answer, req) =>
      req.serializable ? { ...answer, header: { ...answer.header, revision: req.maxCreateRevision }, result: { ...answer.result, kvs: [] } } : answer,
    );
    await contend('behind', port);
    const local = reads.filter((r) => r.serializable).length;
    const linearizable = reads.filter((r) => !r.serializable).length;
    assert.ok(local >= 2 && linearizable === local, `each stale local read needs a linearizable one: ${local} local, ${linearizable} linearizable`);
  });
});
