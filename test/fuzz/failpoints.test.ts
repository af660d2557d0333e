import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as childProcess from 'node:child_process';
import * as path from 'node:path';
import { failpoint, failpointsEnabled, parseFailpoints } from '../../src/failpoints';
import { EtcdClient, RpcError } from '../support/etcd-client';
import { makeTempDir, startLatchkey, stopAll, type ServerProcess } from '../support/processes';

/**
 * Crashes and disk faults at chosen points (LATCHKEY_FAILPOINTS): the member dies by SIGKILL
 * exactly there, and a restart without failpoints on the same data dir has every write that
 * was acknowledged, serves, and keeps a stable HashKV across a further restart.
 */

/** The compiled src/failpoints.js next to this compiled test. */
const failpointsModule = path.resolve(__dirname, '..', '..', 'src', 'failpoints.js');

const WRITERS = 6;
const PUTS_PER_WRITER = 400;
/** Bound on how long the writers run before the failpoint must have fired. */
const CRASH_BOUND_MS = 20_000;
const SCENARIO_TIMEOUT_MS = 60_000;

interface LoadResult {
  acknowledged: Map<string, string>;
}

/** Concurrent writers put until the member stops answering (or the bound passes). */
async function writeUntilDown(server: ServerProcess, prefix: string): Promise<LoadResult> {
  const client = new EtcdClient(server.endpoint);
  const acknowledged = new Map<string, string>();
  const startedAt = Date.now();
  const writer = async (w: number): Promise<void> => {
    for (let i = 0; i < PUTS_PER_WRITER && Date.now() - startedAt < CRASH_BOUND_MS && !server.exited; i++) {
      const key = `${prefix}/${w}/${i}`;
      const value = `v-${w}-${i}`;
      try {
        await client.put({ key: Buffer.from(key), value: Buffer.from(value) }, { deadlineMs: 3_000 });
        acknowledged.set(key, value);
      } catch {
        return; // the member went down (or is going down): stop writing
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: WRITERS }, (_unused, w) => writer(w)));
  } finally {
    client.close();
  }
  return { acknowledged };
}

async function readPrefix(client: EtcdClient, prefix: string): Promise<Map<string, string>> {
  const end = Buffer.from(`${prefix}0`); // '/' + 1 = '0'
  const res = await client.range({ key: Buffer.from(`${prefix}/`), range_end: end });
  const out = new Map<string, string>();
  for (const kv of (res.kvs ?? []) as Array<{ key: Buffer; value?: Buffer }>) {
    out.set(Buffer.from(kv.key).toString(), Buffer.from(kv.value ?? Buffer.alloc(0)).toString());
  }
  return out;
}

async function hashKV(client: EtcdClient): Promise<{ hash: string; revision: string }> {
  const res = await client.call('Maintenance', 'HashKV', { revision: 0 });
  return { hash: String(res.hash), revision: String(res.header?.revision) };
}

/**
 * Restarts on the member's data dir without failpoints and checks: every acknowledged write
 * is there, new writes work, and HashKV is the same after one more restart.
 */
async function checkRecovery(crashed: ServerProcess, prefix: string, acknowledged: Map<string, string>, extraArgs: string[]): Promise<void> {
  const restart = () => startLatchkey({ dataDir: crashed.dataDir, clientPort: crashed.clientPort, peerPort: crashed.peerPort, name: crashed.name, extraArgs });
  const second = await restart();
  const client = new EtcdClient(second.endpoint);
  let before: { hash: string; revision: string };
  try {
    const stored = await readPrefix(client, prefix);
    const missing = [...acknowledged].filter(([key, value]) => stored.get(key) !== value);
    assert.deepEqual(missing.slice(0, 5), [], `${missing.length} of ${acknowledged.size} acknowledged writes lost`);
    await client.put({ key: Buffer.from(`${prefix}-after`), value: Buffer.from('ok') });
    before = await hashKV(client);
  } finally {
    client.close();
  }
  const stopped = await second.stop('SIGTERM');
  assert.equal(stopped.code, 0, `graceful stop failed: ${second.output().slice(-2000)}`);
  const third = await restart();
  const again = new EtcdClient(third.endpoint);
  try {
    assert.deepEqual(await hashKV(again), before, 'HashKV changed across a clean restart');
  } finally {
    again.close();
    await third.stop('SIGTERM');
  }
}

/** Starts with `spec`, writes until the failpoint kills the member, then checks recovery. */
async function crashAt(name: string, spec: string, extraArgs: string[] = []): Promise<number> {
  const dataDir = makeTempDir(`fp-${name}`);
  const server = await startLatchkey({ dataDir, env: { LATCHKEY_FAILPOINTS: spec }, extraArgs });
  const prefix = `fp-${name}`;
  const { acknowledged } = await writeUntilDown(server, prefix);
  let exitTimer: NodeJS.Timeout | undefined;
  const exit = await Promise.race([
    server.waitExit(),
    new Promise<never>((_resolve, reject) => {
      exitTimer = setTimeout(() => reject(new Error(`failpoint ${spec} never fired\n${server.output().slice(-3000)}`)), 10_000);
    }),
  ]).finally(() => clearTimeout(exitTimer));
  assert.equal(exit.signal, 'SIGKILL', `expected a failpoint crash, got ${JSON.stringify(exit)}\n${server.output().slice(-3000)}`);
  assert.match(server.output(), new RegExp(`failpoint ${name}: crashing`));
  await checkRecovery(server, prefix, acknowledged, extraArgs);
  return acknowledged.size;
}

describe('failpoint spec parsing', () => {
  test('accepts the documented actions and rejects anything else', () => {
    const rules = parseFailpoints('walBeforeFsync=crash, walFsync=sleep(200),afterApplyBeforeAnswer=crash@5,duringSnapshot=off,afterFsyncBeforeApply=error');
    assert.deepEqual([...rules.keys()].sort(), ['afterApplyBeforeAnswer', 'afterFsyncBeforeApply', 'walBeforeFsync', 'walFsync']);
    assert.deepEqual(rules.get('afterApplyBeforeAnswer'), { action: { kind: 'crash' }, onHit: 5, hits: 0 });
    assert.deepEqual(rules.get('walFsync')?.action, { kind: 'sleep', ms: 200 });
    assert.equal(parseFailpoints('').size, 0);
    assert.throws(() => parseFailpoints('noSuchPoint=crash'), /unknown failpoint "noSuchPoint"/);
    assert.throws(() => parseFailpoints('walFsync=explode'), /bad action/);
    assert.throws(() => parseFailpoints('walFsync=crash@0'), /@N must be ≥ 1/);
    assert.throws(() => parseFailpoints('walFsync'), /expected name=action/);
  });

  test('actions in a process started with LATCHKEY_FAILPOINTS: error, sleep, crash on the Nth hit', () => {
    const run = (spec: string, script: string) =>
      childProcess.spawnSync(process.execPath, ['-e', `const fp = require(${JSON.stringify(failpointsModule)}); ${script}`], {
        env: { ...process.env, LATCHKEY_FAILPOINTS: spec },
        encoding: 'utf8',
        timeout: 10_000,
      });
    const errored = run('walFsync=error@2', "fp.failpoint('walFsync'); try { fp.failpoint('walFsync'); } catch (e) { console.log(e.name, e.message); } fp.failpoint('walFsync'); console.log('third hit passed');");
    assert.equal(errored.status, 0, errored.stderr);
    assert.equal(errored.stdout, 'FailpointError failpoint walFsync injected an error\nthird hit passed\n');
    const slept = run('walFsync=sleep(150),afterFsyncBeforeApply=sleep(150)', "const t = Date.now(); fp.failpoint('afterFsyncBeforeApply'); fp.failpointAsync('walFsync').then(() => console.log(Date.now() - t));");
    assert.equal(slept.status, 0, slept.stderr);
    assert.ok(Number(slept.stdout) >= 290, `two 150 ms sleeps took ${slept.stdout} ms`);
    const crashed = run('duringSnapshot=crash@3', "for (let i = 1; i <= 5; i++) { console.log(i); fp.failpoint('duringSnapshot'); }");
    assert.equal(crashed.signal, 'SIGKILL');
    assert.equal(crashed.stdout, '1\n2\n3\n');
    assert.match(crashed.stderr, /failpoint duringSnapshot: crashing \(SIGKILL\)/);
    const bad = run('walFsync=sometimes', '');
    assert.notEqual(bad.status, 0);
    assert.match(bad.stderr, /LATCHKEY_FAILPOINTS: bad action/);
  });

  test('without LATCHKEY_FAILPOINTS every failpoint is a no-op', () => {
    assert.equal(process.env.LATCHKEY_FAILPOINTS, undefined);
    assert.equal(failpointsEnabled(), false);
    for (let i = 0; i < 1_000; i++) failpoint('walBeforeFsync');
  });
});

describe('crashes at failpoints lose no acknowledged write', { timeout: 6 * SCENARIO_TIMEOUT_MS }, () => {
  after(stopAll);

  test('crash before the WAL fsync', { timeout: SCENARIO_TIMEOUT_MS }, async () => {
    const acked = await crashAt('walBeforeFsync', 'walBeforeFsync=crash@40');
    assert.ok(acked > 0, 'no write was acknowledged before the crash');
  });

  test('crash after the fsync, before apply', { timeout: SCENARIO_TIMEOUT_MS }, async () => {
    const acked = await crashAt('afterFsyncBeforeApply', 'afterFsyncBeforeApply=crash@40');
    assert.ok(acked > 0, 'no write was acknowledged before the crash');
  });

  test('crash after apply, before answering', { timeout: SCENARIO_TIMEOUT_MS }, async () => {
    const acked = await crashAt('afterApplyBeforeAnswer', 'afterApplyBeforeAnswer=crash@40');
    assert.ok(acked > 0, 'no write was acknowledged before the crash');
  });

  test('crash during the first snapshot (no snap file to fall back to)', { timeout: SCENARIO_TIMEOUT_MS }, async () => {
    const acked = await crashAt('duringSnapshot', 'duringSnapshot=crash@1', ['--snapshot-count', '60']);
    assert.ok(acked > 0, 'no write was acknowledged before the crash');
  });

  test('crash during a later snapshot (marker written, snap file not yet)', { timeout: SCENARIO_TIMEOUT_MS }, async () => {
    // The first snapshot completes; the second one crashes between its marker and its file.
    const acked = await crashAt('duringSnapshot', 'duringSnapshot=crash@2', ['--snapshot-count', '60']);
    assert.ok(acked >= 60, `only ${acked} writes acknowledged: the second snapshot cannot have started`);
  });
});

describe('disk faults at the WAL fsync', { timeout: 2 * SCENARIO_TIMEOUT_MS }, () => {
  after(stopAll);

  test('a failing fsync stops the member instead of acknowledging; a restart recovers', { timeout: SCENARIO_TIMEOUT_MS }, async () => {
    const dataDir = makeTempDir('fp-walFsync-error');
    const server = await startLatchkey({ dataDir, env: { LATCHKEY_FAILPOINTS: 'walFsync=error@40' } });
    const { acknowledged } = await writeUntilDown(server, 'fp-error');
    const exit = await server.waitExit();
    assert.equal(exit.code, 1, `expected a fatal exit, got ${JSON.stringify(exit)}\n${server.output().slice(-3000)}`);
    assert.match(server.output(), /failpoint walFsync injected an error/);
    assert.ok(acknowledged.size > 0);
    await checkRecovery(server, 'fp-error', acknowledged, []);
  });

  test('a slow fsync slows writes down but they still succeed', { timeout: SCENARIO_TIMEOUT_MS }, async () => {
    const server = await startLatchkey({ env: { LATCHKEY_FAILPOINTS: 'walFsync=sleep(200)' } });
    const client = new EtcdClient(server.endpoint);
    try {
      for (let i = 0; i < 3; i++) {
        const startedAt = Date.now();
        const res = await client.put({ key: Buffer.from(`slow/${i}`), value: Buffer.from('v') }, { deadlineMs: 5_000 });
        assert.ok(res.header !== undefined);
        assert.ok(Date.now() - startedAt >= 180, `put took ${Date.now() - startedAt} ms with a 200 ms fsync`);
      }
      const res = await client.range({ key: Buffer.from('slow/'), range_end: Buffer.from('slow0') });
      assert.equal(res.kvs?.length, 3);
    } catch (error) {
      if (error instanceof RpcError) throw new Error(`${error.message}\n${server.output().slice(-2000)}`);
      throw error;
    } finally {
      client.close();
      await server.stop('SIGTERM');
    }
  });
});
