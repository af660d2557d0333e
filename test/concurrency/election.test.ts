import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { ServerElection, type LeaderKey } from '../../src/concurrency/election';
import { EtcdError, GrpcCode } from '../../src/errors';
import { silentLogger } from '../../src/log';
import type { RequestContext } from '../../src/api/member-port';
import { ctx, rangeOf, startInProcess, type InProcessMember } from '../server/member-harness';
import { awaitEvent, isPutOf, isSettled } from './member-events';

function rejectsWith(message: string, code: number = GrpcCode.UNKNOWN) {
  return (err: unknown): boolean => {
    assert.ok(err instanceof EtcdError, String(err));
    assert.equal(err.message, message);
    assert.equal(err.code, code);
    return true;
  };
}

/** Collects what an observation reports, and lets a test await the n-th report. */
class Observed {
  readonly values: string[] = [];
  private waiter: (() => void) | undefined;
  readonly sink = async (_header: unknown, kv: { value: Buffer }): Promise<void> => {
    this.values.push(kv.value.toString());
    this.waiter?.();
  };
  async atLeast(count: number, timeoutMs = 5_000): Promise<string[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.values.length < count) {
      const remaining = deadline - Date.now();
      if (remaining <= 0) throw new Error(`observed ${JSON.stringify(this.values)}, wanted ${count} values`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, remaining);
        this.waiter = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    return this.values.slice();
  }
}

describe('server-side election (v3election) on one member', () => {
  let m: InProcessMember;
  let election: ServerElection;
  before(async () => {
    m = await startInProcess();
    election = new ServerElection(m.port, silentLogger());
  });
  after(async () => {
    await m.stop();
    fs.rmSync(m.dataDir, { recursive: true, force: true });
  });

  const grant = async (): Promise<bigint> => (await m.port.lease.grant(60n, 0n, ctx)).result.id;

  test('campaign, leader, proclaim, resign: the next candidate takes over; errors are etcd\'s', async () => {
    const name = Buffer.from('e1');
    await assert.rejects(election.leader(name, ctx), rejectsWith('election: no leader'));
    const [a, b] = [await grant(), await grant()];
    const won = await election.campaign(name, a, Buffer.from('alpha'), ctx);
    assert.equal(won.leader.key.toString(), `e1/${a.toString(16)}`);
    assert.equal(won.leader.rev, won.header.revision);
    assert.equal(won.leader.lease, a);
    assert.deepEqual(won.leader.name, name);
    const current = await election.leader(name, ctx);
    assert.equal(current.kv.value.toString(), 'alpha');
    assert.equal(current.kv.createRevision, won.leader.rev);

    const second = election.campaign(name, b, Buffer.from('beta'), ctx);
    await awaitEvent(m, 'e1/', isPutOf(Buffer.from(`e1/${b.toString(16)}`)));
    assert.equal(await isSettled(second), false, 'B waits while A leads');

    const proclaimed = await election.proclaim(won.leader, Buffer.from('alpha2'), ctx);
    assert.ok(proclaimed.revision > won.header.revision);
    assert.equal((await election.leader(name, ctx)).kv.value.toString(), 'alpha2');
    const stale: LeaderKey = { ...won.leader, rev: won.leader.rev + 1000n };
    await assert.rejects(election.proclaim(stale, Buffer.from('x'), ctx), rejectsWith('election: not leader'));

    await election.resign(won.leader, ctx);
    const bWon = await second;
    assert.ok(bWon.leader.rev > won.leader.rev);
    assert.equal((await election.leader(name, ctx)).kv.value.toString(), 'beta');
    // Resigning again (no longer the leader key) still succeeds and changes nothing.
    await election.resign(won.leader, ctx);
    await assert.rejects(election.proclaim(won.leader, Buffer.from('late'), ctx), rejectsWith('election: not leader'));
    await election.resign(bWon.leader, ctx);
    await assert.rejects(election.leader(name, ctx), rejectsWith('election: no leader'));
  });

  test('campaigning again with the same lease keeps the position and proclaims the new value', async () => {
    const lease = await grant();
    const first = await election.campaign(Buffer.from('e2'), lease, Buffer.from('v1'), ctx);
    const again = await election.campaign(Buffer.from('e2'), lease, Buffer.from('v2'), ctx);
    assert.equal(again.leader.rev, first.leader.rev);
    assert.equal((await election.leader(Buffer.from('e2'), ctx)).kv.value.toString(), 'v2');
    await election.resign(again.leader, ctx);
  });

  test('campaign with lease 0 runs under a fresh 60 s lease; a missing lease is NOT_FOUND underneath', async () => {
    const won = await election.campaign(Buffer.from('e3'), 0n, Buffer.from('z'), ctx);
    assert.ok(won.leader.lease > 0n);
    const ttl = await m.port.lease.timeToLive(won.leader.lease, false, ctx);
    assert.equal(ttl.result.grantedTtlSeconds, 60n);
    await election.resign(won.leader, ctx);
    await assert.rejects(
      election.campaign(Buffer.from('e3'), 0x5eadn, Buffer.from('z'), ctx),
      rejectsWith('etcdserver: requested lease not found', GrpcCode.NOT_FOUND),
    );
  });

  test('a candidate whose client gives up withdraws its key', async () => {
    const [a, b] = [await grant(), await grant()];
    const won = await election.campaign(Buffer.from('e4'), a, Buffer.from('a'), ctx);
    const controller = new AbortController();
    const canceledCtx: RequestContext = { signal: controller.signal, requireLeader: false };
    const bKey = Buffer.from(`e4/${b.toString(16)}`);
    const waiting = election.campaign(Buffer.from('e4'), b, Buffer.from('b'), canceledCtx);
    await awaitEvent(m, 'e4/', isPutOf(bKey));
    controller.abort();
    await assert.rejects(waiting, (err: unknown) => err instanceof EtcdError && err.code === GrpcCode.CANCELLED);
    assert.equal((await m.port.kv.range(rangeOf(bKey.toString()), ctx)).result.kvs.length, 0);
    await election.resign(won.leader, ctx);
  });

  test('observe reports the leader, each proclaim, nothing on resign, then the next leader', async () => {
    const name = Buffer.from('e5');
    const controller = new AbortController();
    const observeCtx: RequestContext = { signal: controller.signal, requireLeader: false };
    const observed = new Observed();
    const observing = election.observe(name, observeCtx, observed.sink);
    const [a, b] = [await grant(), await grant()];
    const aWon = await election.campaign(name, a, Buffer.from('a1'), ctx);
    assert.deepEqual(await observed.atLeast(1), ['a1']);
    await election.proclaim(aWon.leader, Buffer.from('a2'), ctx);
    assert.deepEqual(await observed.atLeast(2), ['a1', 'a2']);
    await election.resign(aWon.leader, ctx);
    // No leader now: a marker write lets any (wrong) report arrive before we look.
    await m.port.kv.put({ key: Buffer.from('marker'), value: Buffer.alloc(0), lease: 0n, prevKv: false, ignoreValue: false, ignoreLease: false }, ctx);
    await m.port.kv.range(rangeOf('marker'), ctx);
    assert.deepEqual(observed.values, ['a1', 'a2']);
    const bWon = await election.campaign(name, b, Buffer.from('b1'), ctx);
    assert.deepEqual(await observed.atLeast(3), ['a1', 'a2', 'b1']);
    controller.abort();
    await assert.rejects(observing, (err: unknown) => err instanceof EtcdError && err.code === GrpcCode.CANCELLED);
    await election.resign(bWon.leader, ctx);
  });

  test('an observer that joins late gets the current leader at once', async () => {
    const name = Buffer.from('e6');
    const won = await election.campaign(name, await grant(), Buffer.from('now'), ctx);
    const controller = new AbortController();
    const observed = new Observed();
    const observing = election.observe(name, { signal: controller.signal, requireLeader: false }, observed.sink);
    assert.deepEqual(await observed.atLeast(1), ['now']);
    controller.abort();
    await assert.rejects(observing);
    await election.resign(won.leader, ctx);
  });
});
