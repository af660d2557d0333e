import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { findBinary } from '../support/skip';
import { startEtcd, startLatchkey, stopAll } from '../support/processes';
import { runScenario, setUpUsers } from './e2e-scenario';

const DENIED = '7 etcdserver: permission denied';
const USER_EMPTY = '3 etcdserver: user name is empty';
const BAD_TOKEN = '16 etcdserver: invalid auth token';
const WATCH_DENIED = 'created=true canceled=true watch_id=-1 reason=rpc error: code = PermissionDenied desc = etcdserver: permission denied';

/** What etcd 3.4 answers at each step (etcd-api-facts §14/§15 and etcd's source). */
const EXPECTED: Record<string, string> = {
  'writer put /app/x': 'ok',
  'reader get /app/x': 'ok count=1',
  'reader get --prefix /app/': 'ok count=1',
  'reader get /other': DENIED,
  'reader put /app/x': DENIED,
  'reader delete /app/x': DENIED,
  'writer put /other': DENIED,
  'writer put /app/y prev_kv': 'ok',
  'no token get /app/x': USER_EMPTY,
  'no token put /app/x': USER_EMPTY,
  'bogus token get /app/x': BAD_TOKEN,
  'bogus token status': 'ok',
  'bogus token lease grant': BAD_TOKEN,
  'no token status': 'ok',
  'no token member list': 'ok',
  'no token lease grant': 'ok',
  'wrong password': '3 etcdserver: authentication failed, invalid user ID or password',
  'bogus token authenticate': 'ok',
  'unknown user': '3 etcdserver: authentication failed, invalid user ID or password',
  'reader revoke writer lease': DENIED,
  'reader put on writer lease': DENIED,
  'reader lease time-to-live': 'ok keys=1',
  'writer revoke own lease': 'ok',
  'reader txn read-only': 'ok',
  'reader txn put in failure branch': DENIED,
  'writer txn compare /other': DENIED,
  'reader compact': 'ok',
  'no token compact': 'ok',
  // etcd's maintenance server returns the auth package's error unconverted: UNKNOWN "auth: …".
  'reader defragment': '2 auth: permission denied',
  'reader hash': '2 auth: permission denied',
  'reader member add': DENIED,
  'reader user list': DENIED,
  'reader user get self': 'ok roles=app-read',
  'reader watch /other': WATCH_DENIED,
  'reader watch --prefix /app/': 'created=true canceled=false watch_id=0 reason=',
  'no token watch /app/x': 'created=true canceled=true watch_id=-1 reason=rpc error: code = InvalidArgument desc = etcdserver: user name is empty',
  'v3lock writer lock /app/l': 'ok key-prefix=true',
  'v3lock reader lock /app/l2': '2 etcdserver: permission denied',
  'v3lock reader unlock /app/x': '2 etcdserver: permission denied',
  'v3lock no token lock /app/l3': '2 etcdserver: user name is empty',
  'v3election reader campaign /app/e3': '2 etcdserver: permission denied',
  'v3election writer campaign /app/e4': 'ok leader=true',
  'v3election reader leader /app/e4': 'ok value=x',
  'v3election reader leader /other': '2 etcdserver: permission denied',
  // etcd's Observe ends the stream quietly when its first Range fails.
  'v3election reader observe /other': 'end after 0',
  'v3election no token observe /app/e4': 'end after 0',
  'etcdctl writer lock /app/el': 'exit 0 held',
  'etcdctl reader lock /app/el': 'exit 1 Error: etcdserver: permission denied',
  'etcdctl reader elect /app/e': 'exit 1 Error: etcdserver: permission denied',
  'etcdctl writer elect /app/e': 'elected true',
  'reader get --prefix /app/e/ (sees the leader)': 'ok count=1',
  'gateway Authorization reader range': '200',
  'gateway Authorization reader put': '403 7 etcdserver: permission denied',
  'gateway no credentials range': '400 3 etcdserver: user name is empty',
  'gateway token header range': '400 3 etcdserver: user name is empty',
  'gateway bogus Authorization range': '401 16 etcdserver: invalid auth token',
  'gateway Authorization reader watch /other': '200 {"watch_id":"-1","created":true,"canceled":true,"cancel_reason":"rpc error: code = PermissionDenied desc = etcdserver: permission denied"}',
  'gateway Authorization reader watch /app/x': '200 {"created":true}',
};

/**
 * Steps where latchkey knowingly answers differently from etcd 3.4.23, with why.
 * Authenticate: etcd resolves a sent token only after the password check succeeds (in
 * raftRequestOnce), so a stale token with the right password fails there; the policy lets
 * Authenticate through untouched (auth-core's Authenticate would have to check the token
 * after the password to match).
 */
const KNOWN_DIFFERENCES: Record<string, { etcd: string; why: string }> = {
  'bogus token authenticate': { etcd: BAD_TOKEN, why: 'Authenticate does not resolve a sent token (see above)' },
};

after(() => stopAll());

describe('reader and writer against latchkey (real member, real auth store)', () => {
  let latchkeyOutcomes: Map<string, string> | undefined;

  test('every step answers as etcd 3.4 does', { timeout: 120_000 }, async () => {
    const server = await startLatchkey();
    try {
      await setUpUsers(server.endpoint);
      latchkeyOutcomes = await runScenario(server.endpoint, server.clientPort);
    } finally {
      await server.stop();
    }
    const mismatches: string[] = [];
    for (const [step, expected] of Object.entries(EXPECTED)) {
      const actual = latchkeyOutcomes.get(step);
      if (actual !== expected) mismatches.push(`${step}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
    }
    assert.deepEqual(mismatches, []);
    assert.deepEqual([...latchkeyOutcomes.keys()].sort(), Object.keys(EXPECTED).sort());
  });

  test('and the same scenario against real etcd 3.4 answers the same at every step', { timeout: 120_000 }, async (t) => {
    if (findBinary('etcd') === undefined || findBinary('etcdctl') === undefined) {
      t.skip('etcd/etcdctl not installed: no comparison with etcd 3.4');
      return;
    }
    if (latchkeyOutcomes === undefined) {
      t.skip('the latchkey run failed; nothing to compare');
      return;
    }
    const etcd = await startEtcd();
    let etcdOutcomes: Map<string, string>;
    try {
      await setUpUsers(etcd.endpoint);
      etcdOutcomes = await runScenario(etcd.endpoint, etcd.clientPort);
    } finally {
      await etcd.stop();
    }
    const differences: string[] = [];
    for (const [step, ours] of latchkeyOutcomes) {
      const theirs = etcdOutcomes.get(step);
      const known = KNOWN_DIFFERENCES[step];
      if (known !== undefined) {
        assert.equal(theirs, known.etcd, `etcd's answer to ${step} changed`);
        t.diagnostic(`known difference at ${step}: etcd ${JSON.stringify(theirs)}, latchkey ${JSON.stringify(ours)} (${known.why})`);
        continue;
      }
      if (theirs !== ours) differences.push(`${step}: etcd ${JSON.stringify(theirs)}, latchkey ${JSON.stringify(ours)}`);
    }
    if (differences.length > 0) t.diagnostic(`differences from etcd 3.4:\n${differences.join('\n')}`);
    assert.deepEqual(differences, []);
  });
});
