import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as childProcess from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { projectRoot } from '../../src/paths';
import type { LocksJson } from '../../src/cli/locks-format';
import { EtcdClient, prefixEnd } from '../support/etcd-client';
import { EtcdctlSession } from '../support/etcdctl';
import { buildOutputRoot, ServerKind, startServerOfKind, stopAll } from '../support/processes';
import { skipUnlessBinaries } from '../support/skip';
import { freePort } from '../support/ports';

/**
 * `latchkey locks` as an operator runs it: real `etcdctl lock` / `etcdctl elect` processes
 * hold and wait, and the tool (spawned through bin/latchkey) must show the holder first and
 * the waiter after it, against latchkey and against real etcd alike.
 */

const COMMAND_TIMEOUT_MS = 15_000;

/** bin/latchkey once main.ts registers `locks`; until then the same command via locks-main. */
function locksCommand(): string[] {
  const dist = buildOutputRoot();
  const mainJs = fs.readFileSync(path.join(dist, 'src', 'cli', 'main.js'), 'utf8');
  if (mainJs.includes('registerLocksCommand')) return [path.join(projectRoot(), 'bin', 'latchkey'), 'locks'];
  return [path.join(dist, 'src', 'cli', 'locks-main.js'), 'locks'];
}

function runLocks(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    childProcess.execFile(
      process.execPath,
      [...locksCommand(), ...args],
      { env: { ...process.env, LATCHKEY_DIST: buildOutputRoot() }, timeout: COMMAND_TIMEOUT_MS },
      (error, stdout, stderr) => resolve({ code: error === null ? 0 : ((error as { code?: number }).code ?? null), stdout, stderr }),
    );
  });
}

/**
 * Starts `etcdctl lock name` and resolves once its queue key exists (seen through a watch).
 * `earlier` lists queue keys already put under the prefix: real etcd 3.4 can replay the event
 * of a put that completed just before the watch was created (the watch reads the store's
 * revision before that put's transaction has published it), so their events are skipped.
 */
async function queueUp(
  client: EtcdClient,
  endpoint: string,
  args: string[],
  prefix: string,
  earlier: string[] = [],
): Promise<{ session: EtcdctlSession; key: string }> {
  const watch = client.watchStream();
  try {
    watch.send({ create_request: { key: Buffer.from(prefix), range_end: prefixEnd(prefix) } });
    assert.equal((await watch.next()).created, true);
    const session = new EtcdctlSession(endpoint, args);
    for (;;) {
      const message = await watch.next(10_000);
      const put = (message.events ?? []).find(
        (event: { type?: string; kv: { key: Buffer } }) => event.type !== 'Delete' && !earlier.includes(event.kv.key.toString()), // PUT = 0: absent on the wire
      );
      if (put !== undefined) return { session, key: put.kv.key.toString() };
    }
  } finally {
    watch.close();
  }
}

async function createRevision(client: EtcdClient, key: string): Promise<string> {
  const response = await client.range({ key: Buffer.from(key) });
  return response.kvs[0].create_revision;
}

function describeAgainst(kind: ServerKind): void {
  describe(`latchkey locks against ${kind}`, { skip: kind === 'etcd' ? skipUnlessBinaries('etcd', 'etcdctl') : skipUnlessBinaries('etcdctl') }, () => {
    after(stopAll);

    test('an empty server has no locks', async () => {
      const server = await startServerOfKind(kind);
      const result = await runLocks(['--endpoints', server.endpoint]);
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout, /^no locks or elections at revision \d+/);
      await server.stop();
    });

    test('lists the holder of an etcdctl lock, then its waiter, and an election leader', async () => {
      const server = await startServerOfKind(kind);
      const client = new EtcdClient(server.endpoint);
      try {
        const holder = await queueUp(client, server.endpoint, ['lock', 'jobs/nightly'], 'jobs/nightly/');
        const waiter = await queueUp(client, server.endpoint, ['lock', 'jobs/nightly'], 'jobs/nightly/', [holder.key]);
        const leader = await queueUp(client, server.endpoint, ['elect', 'primary', 'db-1'], 'primary/');
        assert.equal((await holder.session.waitForLines(1))[0], holder.key, 'etcdctl prints the key it holds');

        const json = await runLocks(['--endpoints', server.endpoint, '--json']);
        assert.equal(json.code, 0, json.stderr);
        const listed = JSON.parse(json.stdout) as LocksJson;
        const lock = listed.locks.find((entry) => entry.name === 'jobs/nightly');
        assert.ok(lock !== undefined, json.stdout);
        assert.equal(lock.kind, 'lock');
        assert.equal(lock.holder.key, holder.key);
        assert.equal(lock.holder.fencingToken, await createRevision(client, holder.key));
        assert.equal(lock.holder.leaseId, holder.key.split('/').pop());
        assert.equal(lock.holder.grantedTtlSeconds, '10', 'etcdctl lock sessions use TTL 10');
        assert.deepEqual(
          lock.waiters.map((entry) => entry.key),
          [waiter.key],
        );
        assert.ok(BigInt(lock.waiters[0]!.createRevision) > BigInt(lock.holder.fencingToken));
        const election = listed.locks.find((entry) => entry.name === 'primary');
        assert.ok(election !== undefined, json.stdout);
        assert.equal(election.kind, 'election');
        assert.equal(election.holder.key, leader.key);
        assert.equal(election.holder.value, 'db-1');

        const table = await runLocks(['--endpoints', `http://${server.endpoint}`]);
        assert.equal(table.code, 0, table.stderr);
        const rows = table.stdout.split('\n').filter((line) => line.startsWith('jobs/nightly '));
        assert.equal(rows.length, 2, table.stdout);
        assert.match(rows[0]!, /\bholder\b/);
        assert.ok(rows[0]!.includes(holder.key.split('/').pop()!));
        assert.match(rows[1]!, /\bwaiter 1\b/);
        assert.ok(rows[1]!.includes(waiter.key.split('/').pop()!));
        assert.match(table.stdout, /primary\s+election\s+leader\s+\S+\s+\d+\s+\S+\s+db-1/);

        // The holder leaves: the waiter is promoted and the listing follows.
        await holder.session.process.stop('SIGINT');
        assert.equal((await waiter.session.waitForLines(1))[0], waiter.key);
        const afterRelease = JSON.parse((await runLocks(['--endpoints', server.endpoint, '--json'])).stdout) as LocksJson;
        const promoted = afterRelease.locks.find((entry) => entry.name === 'jobs/nightly');
        assert.equal(promoted?.holder.key, waiter.key);
        assert.deepEqual(promoted?.waiters, []);

        await Promise.all([waiter.session.process.stop(), leader.session.process.stop()]);
      } finally {
        client.close();
        await server.stop();
      }
    });
  });
}

describeAgainst('latchkey');
describeAgainst('etcd');

test('latchkey locks against an endpoint where nothing listens exits 1 with the reason', async () => {
  const port = await freePort();
  const result = await runLocks(['--endpoints', `127.0.0.1:${port}`]);
  assert.equal(result.code, 1);
  assert.equal(result.stdout, '');
  assert.match(result.stderr, /^latchkey locks: .*ECONNREFUSED/);
});
