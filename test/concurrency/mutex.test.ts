import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { ServerMutex } from '../../src/concurrency/mutex';
import { asEmbeddedClientError } from '../../src/concurrency/request-errors';
import { EtcdError, GrpcCode } from '../../src/errors';
import { silentLogger } from '../../src/log';
import type { RequestContext } from '../../src/api/member-port';
import { ctx, rangeOf, startInProcess, type InProcessMember } from '../server/member-harness';
import { awaitEvent, isDeleteOf, isPutOf, isSettled } from './member-events';

describe('server-side mutex (v3lock) on one member', () => {
  let m: InProcessMember;
  let mutex: ServerMutex;
  before(async () => {
    m = await startInProcess();
    mutex = new ServerMutex(m.port, silentLogger());
  });
  after(async () => {
    await m.stop();
    fs.rmSync(m.dataDir, { recursive: true, force: true });
  });

  const grant = async (ttl = 60n): Promise<bigint> => (await m.port.lease.grant(ttl, 0n, ctx)).result.id;
  const exists = async (key: Buffer): Promise<boolean> => (await m.port.kv.range(rangeOf(key.toString()), ctx)).result.kvs.length === 1;

  test('lock puts <name>/<lease hex> with the lease; its create revision is the fencing token; unlock deletes it', async () => {
    const lease = await grant();
    const held = await mutex.lock(Buffer.from('simple'), lease, ctx);
    assert.equal(held.key.toString(), `simple/${lease.toString(16)}`);
    assert.equal(held.createRevision, held.header.revision);
    const kv = (await m.port.kv.range(rangeOf(held.key.toString()), ctx)).result.kvs[0]!;
    assert.equal(kv.lease, lease);
    assert.equal(kv.value.length, 0);
    assert.equal(kv.createRevision, held.createRevision);
    const unlocked = await mutex.unlock(held.key, ctx);
    assert.equal(unlocked.revision, held.header.revision + 1n);
    assert.equal(await exists(held.key), false);
    // Unlocking a key that is gone is not an error.
    const again = await mutex.unlock(held.key, ctx);
    assert.equal(again.revision, unlocked.revision);
  });

  test('waiters are granted one at a time in the order they queued, with increasing fencing tokens', async () => {
    const [a, b, c] = [await grant(), await grant(), await grant()];
    const name = Buffer.from('queue');
    const first = await mutex.lock(name, a, ctx);
    const second = mutex.lock(name, b, ctx);
    await awaitEvent(m, 'queue/', isPutOf(Buffer.from(`queue/${b.toString(16)}`)));
    const third = mutex.lock(name, c, ctx);
    await awaitEvent(m, 'queue/', isPutOf(Buffer.from(`queue/${c.toString(16)}`)));
    await m.port.kv.range(rangeOf('queue/'), ctx);
    assert.equal(await isSettled(second), false, 'B waits while A holds');
    assert.equal(await isSettled(third), false, 'C waits while A holds');

    const released = await mutex.unlock(first.key, ctx);
    const secondHeld = await second;
    assert.equal(secondHeld.key.toString(), `queue/${b.toString(16)}`);
    assert.ok(secondHeld.createRevision > first.createRevision);
    assert.ok(secondHeld.header.revision >= released.revision, 'granted after the release');
    assert.equal(await isSettled(third), false, 'C still waits for B');

    await mutex.unlock(secondHeld.key, ctx);
    const thirdHeld = await third;
    assert.ok(thirdHeld.createRevision > secondHeld.createRevision);
    await mutex.unlock(thirdHeld.key, ctx);
  });

  test('the same lease locks again at once (re-entrant) and gets the same key and token', async () => {
    const lease = await grant();
    const first = await mutex.lock(Buffer.from('reentrant'), lease, ctx);
    const second = await mutex.lock(Buffer.from('reentrant'), lease, ctx);
    assert.deepEqual(second.key, first.key);
    assert.equal(second.createRevision, first.createRevision);
    await mutex.unlock(first.key, ctx);
  });

  test('lease 0: the server grants a 60 s lease of its own, and the lock blocks the next locker', async () => {
    const held = await mutex.lock(Buffer.from('zero'), 0n, ctx);
    assert.ok(held.lease > 0n);
    assert.equal(held.key.toString(), `zero/${held.lease.toString(16)}`);
    const ttl = await m.port.lease.timeToLive(held.lease, true, ctx);
    assert.equal(ttl.result.grantedTtlSeconds, 60n);
    assert.deepEqual(ttl.result.keys.map(String), [held.key.toString()]);
    const other = await grant();
    const next = mutex.lock(Buffer.from('zero'), other, ctx);
    await awaitEvent(m, 'zero/', isPutOf(Buffer.from(`zero/${other.toString(16)}`)));
    assert.equal(await isSettled(next), false);
    await m.port.lease.revoke(held.lease, ctx);
    const nextHeld = await next;
    await mutex.unlock(nextHeld.key, ctx);
  });

  test('a missing lease fails with "requested lease not found", UNKNOWN as etcd answers it', async () => {
    await assert.rejects(mutex.lock(Buffer.from('nolease'), 0x7eadbeefn, ctx), (err: unknown) => {
      const shown = asEmbeddedClientError(err);
      assert.ok(shown instanceof EtcdError);
      assert.equal(shown.code, GrpcCode.UNKNOWN);
      assert.equal(shown.message, 'etcdserver: requested lease not found');
      return true;
    });
    const left = await m.port.kv.range(rangeOf('nolease/', 'nolease0'), ctx);
    assert.equal(left.result.kvs.length, 0);
  });

  test('a waiter whose client gives up deletes its key, and the queue behind it moves on', async () => {
    const [a, b, c] = [await grant(), await grant(), await grant()];
    const name = Buffer.from('cancel');
    const held = await mutex.lock(name, a, ctx);
    const controller = new AbortController();
    const canceledCtx: RequestContext = { signal: controller.signal, requireLeader: false };
    const bKey = Buffer.from(`cancel/${b.toString(16)}`);
    const waiting = mutex.lock(name, b, canceledCtx);
    await awaitEvent(m, 'cancel/', isPutOf(bKey));
    const third = mutex.lock(name, c, ctx);
    await awaitEvent(m, 'cancel/', isPutOf(Buffer.from(`cancel/${c.toString(16)}`)));
    const deleted = awaitEvent(m, 'cancel/', isDeleteOf(bKey));
    controller.abort();
    await assert.rejects(waiting, (err: unknown) => err instanceof EtcdError && err.code === GrpcCode.CANCELLED);
    await deleted;
    assert.equal(await exists(bKey), false);
    assert.equal(await exists(held.key), true, 'the holder keeps the lock');
    await mutex.unlock(held.key, ctx);
    const thirdHeld = await third;
    await mutex.unlock(thirdHeld.key, ctx);
  });

  test('a deadline that passes while waiting ends the wait and cleans up', async () => {
    const [a, b] = [await grant(), await grant()];
    const held = await mutex.lock(Buffer.from('deadline'), a, ctx);
    const deadlineCtx: RequestContext = { signal: AbortSignal.timeout(200), requireLeader: false };
    await assert.rejects(mutex.lock(Buffer.from('deadline'), b, deadlineCtx), EtcdError);
    assert.equal(await exists(Buffer.from(`deadline/${b.toString(16)}`)), false);
    await mutex.unlock(held.key, ctx);
  });
});
