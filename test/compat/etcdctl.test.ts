import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { EtcdctlSession, etcdctl, etcdctlOk } from '../support/etcdctl';
import { ServerProcess, startServerOfKind, stopAll } from '../support/processes';
import { skipUnlessBinaries } from '../support/skip';
import { compatTargets } from './targets';

/**
 * etcdctl 3.4 (the real Go client) against a latchkey process, with the output checks of
 * a user at a shell. The same tests run against etcd to prove the expectations.
 */

/** Current store revision, read the way a user would (get -w json). */
async function currentRevision(endpoint: string): Promise<number> {
  const json = JSON.parse(await etcdctlOk(endpoint, ['get', 'any-key', '-w', 'json'])) as { header: { revision: number } };
  return Number(json.header.revision);
}

/** Polls `condition` (bounded) where no event can be awaited, e.g. another process's state. */
async function waitFor(condition: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function leaseIdFromGrant(output: string): string {
  const match = /^lease ([0-9a-f]{16}) granted with TTL\((\d+)s\)$/.exec(output.trim());
  assert.ok(match, `unexpected lease grant output: ${output}`);
  return match[1]!;
}

for (const kind of compatTargets()) {
  describe(`etcdctl 3.4 against ${kind}`, { skip: skipUnlessBinaries('etcd', 'etcdctl') }, () => {
    let server: ServerProcess;
    let ep: string;

    before(async () => {
      server = await startServerOfKind(kind, { name: `ctl-${kind}` });
      ep = server.endpoint;
    });
    after(stopAll);

    test('put prints OK; get prints key and value lines', { timeout: 20_000 }, async () => {
      assert.equal(await etcdctlOk(ep, ['put', 'greeting', 'hello world']), 'OK\n');
      assert.equal(await etcdctlOk(ep, ['get', 'greeting']), 'greeting\nhello world\n');
      assert.equal(await etcdctlOk(ep, ['get', 'greeting', '--print-value-only']), 'hello world\n');
      assert.equal(await etcdctlOk(ep, ['get', 'no-such-key']), '');
      assert.equal(await etcdctlOk(ep, ['put', 'greeting', 'again', '--prev-kv']), 'OK\ngreeting\nhello world\n');
    });

    test('get --prefix, --limit, --sort-by/--order, --keys-only, --from-key', { timeout: 20_000 }, async () => {
      for (const [key, value] of [['fruit/b', 'banana'], ['fruit/a', 'apple'], ['fruit/c', 'cherry'], ['fruitz', 'x']]) {
        await etcdctlOk(ep, ['put', key!, value!]);
      }
      assert.equal(await etcdctlOk(ep, ['get', 'fruit/', '--prefix']), 'fruit/a\napple\nfruit/b\nbanana\nfruit/c\ncherry\n');
      assert.equal(await etcdctlOk(ep, ['get', 'fruit/', '--prefix', '--limit=2']), 'fruit/a\napple\nfruit/b\nbanana\n');
      assert.equal(
        await etcdctlOk(ep, ['get', 'fruit/', '--prefix', '--sort-by=MODIFY', '--order=DESCEND', '--keys-only']),
        'fruit/c\n\nfruit/a\n\nfruit/b\n\n',
      );
      assert.equal(await etcdctlOk(ep, ['get', 'fruit/', '--prefix', '--sort-by=VALUE', '--print-value-only']), 'apple\nbanana\ncherry\n');
      assert.equal(await etcdctlOk(ep, ['get', 'fruit/c', '--from-key', '--keys-only']).then((out) => out.split('\n').filter((l) => l)[0]), 'fruit/c');
      const json = JSON.parse(await etcdctlOk(ep, ['get', 'fruit/', '--prefix', '--limit=1', '-w', 'json'])) as {
        count: number;
        more: boolean;
        kvs: { key: string; value: string; version: number }[];
      };
      assert.equal(json.count, 3);
      assert.equal(json.more, true);
      assert.equal(Buffer.from(json.kvs[0]!.key, 'base64').toString(), 'fruit/a');
      assert.equal(Buffer.from(json.kvs[0]!.value, 'base64').toString(), 'apple');
    });

    test('get --rev reads history; del --prefix and --prev-kv print counts and values', { timeout: 20_000 }, async () => {
      await etcdctlOk(ep, ['put', 'hist', 'v1']);
      const rev1 = await currentRevision(ep);
      await etcdctlOk(ep, ['put', 'hist', 'v2']);
      assert.equal(await etcdctlOk(ep, ['get', 'hist', `--rev=${rev1}`, '--print-value-only']), 'v1\n');
      assert.equal(await etcdctlOk(ep, ['get', 'hist', '--print-value-only']), 'v2\n');

      for (const key of ['gone/1', 'gone/2', 'gone/3']) await etcdctlOk(ep, ['put', key, `val-${key}`]);
      assert.equal(await etcdctlOk(ep, ['del', 'gone/1', '--prev-kv']), '1\ngone/1\nval-gone/1\n');
      assert.equal(await etcdctlOk(ep, ['del', 'gone/', '--prefix']), '2\n');
      assert.equal(await etcdctlOk(ep, ['del', 'gone/', '--prefix']), '0\n');
      assert.equal(await etcdctlOk(ep, ['get', 'gone/', '--prefix']), '');
    });

    test('txn from stdin: success and failure branches', { timeout: 20_000 }, async () => {
      await etcdctlOk(ep, ['put', 'tx/flag', 'on']);
      const success = await etcdctlOk(ep, ['txn'], {
        input: 'mod("tx/flag") > "0"\nvalue("tx/flag") = "on"\n\nput tx/result yes\nget tx/flag\n\nput tx/result no\n\n',
      });
      assert.equal(success, 'SUCCESS\n\nOK\n\ntx/flag\non\n');
      assert.equal(await etcdctlOk(ep, ['get', 'tx/result', '--print-value-only']), 'yes\n');

      const failure = await etcdctlOk(ep, ['txn'], {
        input: 'version("tx/flag") = "7"\ncreate("tx/new") = "0"\n\nput tx/result never\n\nget tx/ --prefix --limit=2\ndel tx/result\n\n',
      });
      assert.equal(failure, 'FAILURE\n\ntx/flag\non\ntx/result\nyes\n\n1\n');
      assert.equal(await etcdctlOk(ep, ['get', 'tx/result']), '');
    });

    test('watch prints PUT and DELETE events as they happen', { timeout: 20_000 }, async () => {
      // Watching from the next revision makes the test independent of when the watch is set up.
      const from = (await currentRevision(ep)) + 1;
      const watch = new EtcdctlSession(ep, ['watch', 'watched/', '--prefix', `--rev=${from}`]);
      try {
        await etcdctlOk(ep, ['put', 'watched/a', '1']);
        await etcdctlOk(ep, ['put', 'watched/b', '2']);
        await etcdctlOk(ep, ['del', 'watched/a']);
        const lines = await watch.waitForLines(9);
        assert.deepEqual(lines.slice(0, 9), ['PUT', 'watched/a', '1', 'PUT', 'watched/b', '2', 'DELETE', 'watched/a', '']);
      } finally {
        await watch.stop();
      }
    });

    test('watch --prev-kv prints the previous value', { timeout: 20_000 }, async () => {
      await etcdctlOk(ep, ['put', 'pw', 'old']);
      const from = (await currentRevision(ep)) + 1;
      const watch = new EtcdctlSession(ep, ['watch', 'pw', '--prev-kv', `--rev=${from}`]);
      try {
        await etcdctlOk(ep, ['put', 'pw', 'new']);
        assert.deepEqual((await watch.waitForLines(5)).slice(0, 5), ['PUT', 'pw', 'old', 'pw', 'new']);
      } finally {
        await watch.stop();
      }
    });

    test('lease grant, put --lease, timetolive --keys, keep-alive --once, list, revoke', { timeout: 20_000 }, async () => {
      const id = leaseIdFromGrant(await etcdctlOk(ep, ['lease', 'grant', '30']));
      assert.equal(await etcdctlOk(ep, ['put', 'leased/key', 'v', `--lease=${id}`]), 'OK\n');
      const ttl = (await etcdctlOk(ep, ['lease', 'timetolive', id, '--keys'])).trim();
      assert.match(ttl, new RegExp(`^lease ${id} granted with TTL\\(30s\\), remaining\\((29|30)s\\), attached keys\\(\\[leased/key\\]\\)$`));
      assert.equal(await etcdctlOk(ep, ['lease', 'keep-alive', '--once', id]), `lease ${id} keepalived with TTL(30)\n`);
      const list = (await etcdctlOk(ep, ['lease', 'list'])).trim().split('\n');
      assert.match(list[0]!, /^found \d+ leases$/);
      assert.ok(list.includes(id), `lease list lacks ${id}: ${list.join(' | ')}`);
      assert.equal(await etcdctlOk(ep, ['lease', 'revoke', id]), `lease ${id} revoked\n`);
      assert.equal(await etcdctlOk(ep, ['get', 'leased/key']), '');
      assert.equal(await etcdctlOk(ep, ['lease', 'timetolive', id]), `lease ${id} already expired\n`);
      const revokeAgain = await etcdctl(ep, ['lease', 'revoke', id]);
      assert.notEqual(revokeAgain.code, 0);
      assert.match(revokeAgain.stderr, /etcdserver: requested lease not found/);
    });

    test('put with an unknown lease fails with lease not found', { timeout: 20_000 }, async () => {
      const result = await etcdctl(ep, ['put', 'k', 'v', '--lease=1234abcd']);
      assert.notEqual(result.code, 0);
      assert.match(result.stderr, /Error: etcdserver: requested lease not found/);
    });

    test('compaction: old revisions become unreadable', { timeout: 20_000 }, async () => {
      await etcdctlOk(ep, ['put', 'compact-me', 'v1']);
      const old = await currentRevision(ep);
      await etcdctlOk(ep, ['put', 'compact-me', 'v2']);
      const now = await currentRevision(ep);
      assert.equal(await etcdctlOk(ep, ['compaction', String(now)]), `compacted revision ${now}\n`);
      const read = await etcdctl(ep, ['get', 'compact-me', `--rev=${old}`]);
      assert.notEqual(read.code, 0);
      assert.match(read.stderr, /Error: etcdserver: mvcc: required revision has been compacted/);
      assert.equal(await etcdctlOk(ep, ['get', 'compact-me', `--rev=${now}`, '--print-value-only']), 'v2\n');
      const again = await etcdctl(ep, ['compaction', String(now)]);
      assert.notEqual(again.code, 0);
      assert.match(again.stderr, /required revision has been compacted/);
    });

    test('endpoint status (simple and json) reports a leader', { timeout: 20_000 }, async () => {
      const simple = (await etcdctlOk(ep, ['endpoint', 'status'])).trim();
      const fields = simple.split(', ');
      assert.equal(fields[0], ep);
      assert.match(fields[1]!, /^[0-9a-f]+$/);
      assert.match(fields[2]!, /^\d+\.\d+\.\d+/);
      assert.equal(fields[4], 'true', `is leader: ${simple}`);
      assert.equal(fields[5], 'false');
      const json = JSON.parse(await etcdctlOk(ep, ['endpoint', 'status', '-w', 'json'])) as {
        Endpoint: string;
        Status: { header: { member_id: number; revision: number }; leader: number; version: string; dbSize: number; raftIndex: number };
      }[];
      assert.equal(json.length, 1);
      assert.equal(json[0]!.Endpoint, ep);
      assert.equal(json[0]!.Status.leader, json[0]!.Status.header.member_id);
      assert.ok(json[0]!.Status.header.revision >= 1);
      assert.ok(json[0]!.Status.dbSize > 0);
      assert.equal(typeof json[0]!.Status.version, 'string');
    });

    test('endpoint health says healthy', { timeout: 20_000 }, async () => {
      const result = await etcdctl(ep, ['endpoint', 'health']);
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout + result.stderr, new RegExp(`${ep.replace(/\./g, '\\.')} is healthy: successfully committed proposal: took = `));
    });

    test('member list shows this member, started, with its URLs', { timeout: 20_000 }, async () => {
      const line = (await etcdctlOk(ep, ['member', 'list'])).trim();
      assert.match(line, new RegExp(`^[0-9a-f]+, started, ctl-${kind}, ${server.peerUrl}, ${server.clientUrl}, false$`));
      const status = (await etcdctlOk(ep, ['endpoint', 'status'])).split(', ');
      assert.equal(line.split(', ')[0], status[1], 'member ID in member list = endpoint status ID');
    });

    test('snapshot save writes a non-empty file', { timeout: 30_000 }, async () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'latchkey-snapshot-'));
      try {
        const file = path.join(dir, 'backup.db');
        const result = await etcdctl(ep, ['snapshot', 'save', file], { timeoutMs: 25_000 });
        assert.equal(result.code, 0, result.stderr);
        assert.match(result.stdout, /Snapshot saved at /);
        assert.ok(fs.statSync(file).size > 0);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });

    test('lock: the second locker waits until the first releases (SIGTERM)', { timeout: 30_000 }, async () => {
      const first = new EtcdctlSession(ep, ['lock', 'ctl-lock']);
      try {
        const firstKey = await first.waitForLine((line) => line.startsWith('ctl-lock/'));
        const second = new EtcdctlSession(ep, ['lock', 'ctl-lock']);
        try {
          // The waiter's key exists (queued) but it has not printed: it does not hold the lock.
          await waitFor(async () => (await etcdctlOk(ep, ['get', 'ctl-lock/', '--prefix', '--keys-only'])).split('\n').filter((l) => l).length === 2);
          assert.deepEqual(second.stdoutLines(), []);
          await first.stop('SIGTERM');
          const secondKey = await second.waitForLine((line) => line.startsWith('ctl-lock/'));
          assert.notEqual(secondKey, firstKey);
          assert.equal((await etcdctlOk(ep, ['get', firstKey])).length, 0, 'first key deleted on release');
        } finally {
          await second.stop('SIGTERM');
        }
      } finally {
        await first.stop('SIGTERM');
      }
    });

    test('lock with a command runs it while holding the lock and passes ETCD_LOCK_KEY', { timeout: 30_000 }, async () => {
      const out = await etcdctlOk(ep, ['lock', 'exec-lock', '--', 'sh', '-c', 'echo "held $ETCD_LOCK_KEY rev $ETCD_LOCK_REV"']);
      assert.match(out, /^held exec-lock\/[0-9a-f]+ rev \d+\n$/);
      assert.equal(await etcdctlOk(ep, ['get', 'exec-lock/', '--prefix']), '', 'released after the command');
    });

    test('elect: the first candidate leads; the second takes over when it resigns', { timeout: 30_000 }, async () => {
      const first = new EtcdctlSession(ep, ['elect', 'ctl-election', 'alpha']);
      try {
        await first.waitForLine((line) => line === 'alpha');
        const observer = new EtcdctlSession(ep, ['elect', '-l', 'ctl-election']);
        const second = new EtcdctlSession(ep, ['elect', 'ctl-election', 'beta']);
        try {
          await observer.waitForLine((line) => line === 'alpha');
          await waitFor(async () => (await etcdctlOk(ep, ['get', 'ctl-election/', '--prefix', '--keys-only'])).split('\n').filter((l) => l).length === 2);
          assert.deepEqual(second.stdoutLines(), []);
          await first.stop('SIGINT');
          await second.waitForLine((line) => line === 'beta');
          await observer.waitForLine((line) => line === 'beta');
        } finally {
          await second.stop('SIGINT');
          await observer.stop('SIGINT');
        }
      } finally {
        await first.stop('SIGINT');
      }
    });

    test('client errors: empty key and future revision', { timeout: 20_000 }, async () => {
      const future = await etcdctl(ep, ['get', 'k', '--rev=999999999']);
      assert.notEqual(future.code, 0);
      assert.match(future.stderr, /etcdserver: mvcc: required revision is a future revision/);
      const empty = await etcdctl(ep, ['put', '', 'v']);
      assert.notEqual(empty.code, 0);
    });
  });
}
