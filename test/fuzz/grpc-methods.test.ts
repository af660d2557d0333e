import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import fc from 'fast-check';
import { EtcdClient } from '../support/etcd-client';
import { startLatchkey, stopAll, type ServerProcess } from '../support/processes';
import { fuzzRuns, fuzzSeed } from './fuzz-support';
import { encodeMessage, fuzzMethods, messageArb, type FuzzMethod, type PlainMessage } from './proto-arbitrary';
import { RawCaller, type CallOutcome } from './raw-caller';

/**
 * Every method of KV, Watch, Lease, Cluster, Maintenance, Auth, Lock and Election, called
 * with random well-typed messages and random raw bytes against one latchkey process. Each
 * call must end within its deadline with a status (OK or an error; only blocking methods may
 * run into their deadline), never with a crash of the server, never with a leaked JS
 * exception; and a batch whose KV-writing calls all failed must leave HashKV unchanged.
 */

const METHODS = fuzzMethods();
const byName = new Map(METHODS.map((m) => [m.name, m]));

/** Block by design until something happens (acquired, elected, events): a deadline is fine. */
const BLOCKING = new Set(['Lock.Lock', 'Election.Campaign', 'Election.Observe', 'Watch.Watch', 'Lease.LeaseKeepAlive']);
const BLOCKING_DEADLINE_MS = 600;
/** Anything else answering later than this is a hang. */
const UNARY_DEADLINE_MS = 5_000;

/** Calls that can change the KV store (what HashKV covers) when they succeed or time out. */
const KV_WRITERS = new Set([
  'KV.Put', 'KV.DeleteRange', 'KV.Txn', 'KV.Compact', 'Lease.LeaseRevoke',
  'Lock.Lock', 'Lock.Unlock', 'Election.Campaign', 'Election.Proclaim', 'Election.Resign',
]);

/** A status text that is a JavaScript exception escaping a handler, not an answer. */
const LEAKED_EXCEPTION = /TypeError|ReferenceError|Cannot read propert|is not a function|is not iterable|serialize a BigInt|Maximum call stack/;

const ALARM_TYPES: Record<string, number> = { NOSPACE: 1, CORRUPT: 2, Nospace: 1, Corrupt: 2 };

interface FuzzCall {
  method: FuzzMethod;
  /** Typed: encoded from random objects; raw: random bytes; mutated: typed with a flip or cut. */
  kind: 'typed' | 'raw' | 'mutated';
  requests: Buffer[];
}

function deadlineFor(method: FuzzMethod): number {
  return BLOCKING.has(method.name) ? BLOCKING_DEADLINE_MS : UNARY_DEADLINE_MS;
}

/**
 * Keeps random requests from doing what would end the experiment rather than test it:
 * removing or re-addressing this member, adding a voter (a single member would lose quorum
 * for good), raising an alarm (every later write would fail with NOSPACE).
 */
function sanitize(method: FuzzMethod, message: PlainMessage, selfId: string): PlainMessage {
  const out = { ...message };
  if (method.name.startsWith('Cluster.') && out.ID === selfId) out.ID = '1';
  if (method.name === 'Cluster.MemberAdd') {
    const urls = Array.isArray(out.peerURLs) ? (out.peerURLs as string[]) : [];
    out.peerURLs = (urls.length > 0 ? urls : ['x']).map((url) => `not a url ${url}`);
  }
  if (method.name === 'Maintenance.Alarm' && (out.action === 1 || out.action === 'ACTIVATE')) out.action = 0;
  return out;
}

function callArb(selfId: string): fc.Arbitrary<FuzzCall> {
  const typed = fc.constantFrom(...METHODS).chain((method) =>
    fc.array(messageArb(method.requestType), { minLength: 1, maxLength: method.requestStream ? 3 : 1 }).map((messages) => ({
      method,
      kind: 'typed' as const,
      requests: messages.map((m) => encodeMessage(method.requestType, sanitize(method, m, selfId))),
    })),
  );
  const raw = fc.constantFrom(...METHODS).chain((method) =>
    fc.array(fc.uint8Array({ maxLength: 48 }), { minLength: 1, maxLength: method.requestStream ? 3 : 1 }).map((payloads) => ({
      method,
      kind: 'raw' as const,
      requests: payloads.map((p) => Buffer.from(p)),
    })),
  );
  // Valid encodings with a byte flipped or the tail cut: malformed, but close to real traffic.
  const mutated = fc.tuple(typed, fc.nat(), fc.integer({ min: 1, max: 255 }), fc.boolean()).map(([call, at, mask, truncate]) => ({
    ...call,
    kind: 'mutated' as const,
    requests: call.requests.map((bytes) => {
      if (bytes.length === 0) return bytes;
      if (truncate) return bytes.subarray(0, at % bytes.length);
      const copy = Buffer.from(bytes);
      copy[at % copy.length] ^= mask;
      return copy;
    }),
  }));
  return fc.oneof(typed, raw, mutated);
}

/** Checks one outcome; returns a failure description or undefined. */
function judge(call: FuzzCall, outcome: CallOutcome): string | undefined {
  const what = `${call.method.name} (${call.kind}, ${call.requests.map((r) => r.toString('hex')).join(' ')})`;
  if (!Number.isInteger(outcome.code) || outcome.code < 0 || outcome.code > 16) return `${what}: bad status ${outcome.code}`;
  if (outcome.code === grpc.status.DEADLINE_EXCEEDED && !BLOCKING.has(call.method.name)) {
    return `${what}: no answer within ${UNARY_DEADLINE_MS} ms (hang)`;
  }
  if (LEAKED_EXCEPTION.test(outcome.details)) return `${what}: leaked exception in status: ${outcome.code} ${outcome.details}`;
  if (outcome.code === grpc.status.OK) {
    for (const response of outcome.responses) {
      try {
        call.method.responseType.decode(response);
      } catch (error) {
        return `${what}: undecodable response ${response.toString('hex')}: ${String(error)}`;
      }
    }
  }
  return undefined;
}

function mayHaveWrittenKV(call: FuzzCall, outcome: CallOutcome): boolean {
  if (!KV_WRITERS.has(call.method.name)) return false;
  return outcome.code === grpc.status.OK || outcome.code === grpc.status.DEADLINE_EXCEEDED || outcome.code === grpc.status.CANCELLED;
}

describe('fuzz: every gRPC method with random and malformed messages', { timeout: 180_000 }, () => {
  let server: ServerProcess;
  let client: EtcdClient;
  let caller: RawCaller;
  let selfId: string;

  before(async () => {
    server = await startLatchkey();
    client = new EtcdClient(server.endpoint);
    caller = new RawCaller(server.endpoint);
    selfId = String((await client.status()).header.member_id);
    for (const key of ['a', 'b', 'fz/1', 'fz/2']) await client.put({ key: Buffer.from(key), value: Buffer.from(`seed-${key}`) });
  });

  after(async () => {
    caller?.close();
    client?.close();
    await stopAll();
  });

  async function storeHash(): Promise<string> {
    const res = await client.call('Maintenance', 'HashKV', { revision: 0 }, { deadlineMs: 5_000 });
    return `hash=${res.hash} revision=${res.header?.revision}`;
  }

  /** Revokes fuzz-made leases (their expiry would change the store later) and clears alarms. */
  async function cleanUp(): Promise<void> {
    const leases = await client.leaseLeases();
    for (const lease of (leases.leases ?? []) as Array<{ ID: string }>) {
      await client.leaseRevoke({ ID: lease.ID }).catch(() => undefined); // may expire meanwhile
    }
    const alarms = await client.call('Maintenance', 'Alarm', { action: 0 });
    for (const alarm of (alarms.alarms ?? []) as Array<{ memberID: string; alarm: string }>) {
      await client.call('Maintenance', 'Alarm', { action: 2, memberID: alarm.memberID, alarm: ALARM_TYPES[alarm.alarm] ?? 0 });
    }
  }

  function assertAlive(context: string): void {
    assert.equal(server.exited, false, `server died ${context}\n${server.output().slice(-3000)}`);
  }

  test('malformed bytes to every method end with a status and change nothing', async () => {
    const malformed = [
      Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]), // field 0x1fffffff…, wire type 7
      Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f]), // field 1 length-delimited, length 4 GiB
      Buffer.from([0x08]), // field 1 varint, cut off
      Buffer.from([0x08, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01]), // 11-byte varint
      Buffer.from([0x12, 0x02, 0x1a]), // a nested message whose content is cut off
    ];
    const baseline = await storeHash();
    const failures: string[] = [];
    for (const method of METHODS) {
      const outcomes = await Promise.all(
        malformed.map(async (bytes) => {
          const call: FuzzCall = { method, kind: 'raw', requests: [bytes] };
          return { call, outcome: await caller.call(method, [bytes], deadlineFor(method)) };
        }),
      );
      for (const { call, outcome } of outcomes) {
        const failure = judge(call, outcome);
        if (failure !== undefined) failures.push(failure);
      }
      assertAlive(`after malformed ${method.name}`);
    }
    assert.deepEqual(failures, []);
    assert.equal(await storeHash(), baseline, 'malformed requests changed the store');
    assert.ok(METHODS.length >= 45, `only ${METHODS.length} methods found in proto/`);
  });

  test('random typed and raw requests: bounded, never fatal, failed writes change nothing', async () => {
    const seed = fuzzSeed('grpc-methods');
    const stats = { batches: 0, checkedBatches: 0, calls: 0, byCode: new Map<number, number>() };
    await cleanUp();
    let baseline = await storeHash();
    await fc.assert(
      fc.asyncProperty(fc.array(callArb(selfId), { minLength: 1, maxLength: 5 }), (calls) =>
        checkBatch(calls).catch((error: unknown) => {
          // A member that stopped answering must say why: keep its last output with the failure.
          throw new Error(`${error instanceof Error ? error.message : String(error)}\n--- member output (tail) ---\n${server.output().slice(-3000)}`);
        }),
      ),
      { numRuns: fuzzRuns(120), seed, endOnFailure: true, includeErrorInReport: true },
    );
    async function checkBatch(calls: FuzzCall[]): Promise<void> {
      const outcomes = await Promise.all(calls.map((call) => caller.call(call.method, call.requests, deadlineFor(call.method))));
      stats.batches++;
      const failures: string[] = [];
      let wroteKV = false;
      calls.forEach((call, i) => {
        const outcome = outcomes[i]!;
        stats.calls++;
        stats.byCode.set(outcome.code, (stats.byCode.get(outcome.code) ?? 0) + 1);
        if (process.env.FUZZ_VERBOSE !== undefined) process.stdout.write(`# ${call.method.name} ${call.kind} -> ${grpc.status[outcome.code]} ${outcome.details}\n`);
        const failure = judge(call, outcome);
        if (failure !== undefined) failures.push(failure);
        if (mayHaveWrittenKV(call, outcome)) wroteKV = true;
      });
      assertAlive('during the batch');
      assert.deepEqual(failures, []);
      const now = await storeHash();
      if (!wroteKV) {
        stats.checkedBatches++;
        const summary = calls.map((c, i) => `${c.method.name}:${outcomes[i]!.code}`).join(', ');
        assert.equal(now, baseline, `store changed by a batch whose writes all failed: ${summary}`);
      }
      await cleanUp();
      baseline = await storeHash();
    }
    const codes = [...stats.byCode].sort((a, b) => a[0] - b[0]).map(([code, n]) => `${grpc.status[code]}=${n}`).join(' ');
    process.stdout.write(`# grpc fuzz: ${stats.batches} batches (${stats.checkedBatches} hash-checked), ${stats.calls} calls: ${codes}\n`);
    assert.ok(stats.checkedBatches > 0 || stats.batches < 5, 'no batch was hash-checked: the property checked nothing');

    // Still serving: status, a linearizable read and a write.
    assertAlive('after the run');
    await client.status();
    await client.put({ key: Buffer.from('after-fuzz'), value: Buffer.from('ok') });
    const read = await client.range({ key: Buffer.from('after-fuzz') });
    assert.equal(Buffer.from(read.kvs[0].value).toString(), 'ok');
  });

  /** One typed call through the raw caller; the decoded response for OK unary calls. */
  async function typedCall(name: string, message: PlainMessage, deadlineMs: number): Promise<{ outcome: CallOutcome; response: PlainMessage | undefined }> {
    const method = byName.get(name);
    assert.ok(method !== undefined, `no method ${name}`);
    const outcome = await caller.call(method, [encodeMessage(method.requestType, message)], deadlineMs);
    const first = outcome.code === grpc.status.OK ? outcome.responses[0] : undefined;
    const response = first === undefined ? undefined : (method.responseType.toObject(method.responseType.decode(first), { longs: String }) as PlainMessage);
    return { outcome, response };
  }

  test('blocking calls cut off by random deadlines leave no key behind and the lock stays usable', async () => {
    const seed = fuzzSeed('grpc-blocking');
    const holderLease = String((await client.leaseGrant({ TTL: 60 })).ID);
    const waiterLease = String((await client.leaseGrant({ TTL: 60 })).ID);
    const held = await typedCall('Lock.Lock', { name: Buffer.from('fz-lock'), lease: holderLease }, 5_000);
    assert.equal(held.outcome.code, grpc.status.OK, held.outcome.details);
    const leader = await typedCall('Election.Campaign', { name: Buffer.from('fz-elect'), lease: holderLease, value: Buffer.from('x') }, 5_000);
    assert.equal(leader.outcome.code, grpc.status.OK, leader.outcome.details);
    const prefixKeys = async (prefix: string): Promise<number> =>
      Number((await client.range({ key: Buffer.from(`${prefix}/`), range_end: Buffer.from(`${prefix}0`), count_only: true })).count ?? 0);
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 1, max: 300 })), { minLength: 1, maxLength: 4 }), async (waits) => {
        const outcomes = await Promise.all(
          waits.map(([isLock, deadlineMs]) =>
            isLock
              ? typedCall('Lock.Lock', { name: Buffer.from('fz-lock'), lease: waiterLease }, deadlineMs)
              : typedCall('Election.Campaign', { name: Buffer.from('fz-elect'), lease: waiterLease, value: Buffer.from('y') }, deadlineMs),
          ),
        );
        for (const { outcome } of outcomes) assert.equal(outcome.code, grpc.status.DEADLINE_EXCEEDED, `a waiter got ${outcome.code} ${outcome.details}`);
        // Each cancelled waiter deletes its key again (as etcd's mutex does); allow the deletes to land.
        const deadline = Date.now() + 3_000;
        while ((await prefixKeys('fz-lock')) + (await prefixKeys('fz-elect')) > 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
        assert.equal(await prefixKeys('fz-lock'), 1, 'a cancelled Lock left its key behind');
        assert.equal(await prefixKeys('fz-elect'), 1, 'a cancelled Campaign left its key behind');
        assertAlive('after cancelled waiters');
      }),
      { numRuns: fuzzRuns(15), seed, endOnFailure: true, includeErrorInReport: true },
    );
    // The holder releases; the next waiter acquires at once.
    const unlocked = await typedCall('Lock.Unlock', { key: held.response?.key }, 5_000);
    assert.equal(unlocked.outcome.code, grpc.status.OK, unlocked.outcome.details);
    const next = await typedCall('Lock.Lock', { name: Buffer.from('fz-lock'), lease: waiterLease }, 5_000);
    assert.equal(next.outcome.code, grpc.status.OK, next.outcome.details);
    await client.leaseRevoke({ ID: holderLease });
    await client.leaseRevoke({ ID: waiterLease });
    assert.equal(await prefixKeys('fz-lock'), 0);
    assert.equal(await prefixKeys('fz-elect'), 0);
  });

  test('the method list covers every service', () => {
    const services = new Set([...byName.keys()].map((name) => name.split('.')[0]));
    assert.deepEqual([...services].sort(), ['Auth', 'Cluster', 'Election', 'KV', 'Lease', 'Lock', 'Maintenance', 'Watch']);
  });
});
