import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { skipUnlessBinaries } from '../support/skip';
import { startEtcd, startLatchkey, stopAll, type ServerProcess } from '../support/processes';
import { LineStream, normalizeJson, post, request, type HttpAnswer } from './http-client';

const b64 = (s: string): string => Buffer.from(s).toString('base64');

/** Requests run in order against both servers; every answer (status and body) must match. */
const SCRIPT: Array<[string, unknown]> = [
  ['/v3/kv/put', { key: b64('gw/a'), value: b64('1') }],
  ['/v3/kv/put', { key: b64('gw/a'), value: b64('2'), prev_kv: true }],
  ['/v3/kv/put', { key: b64('gw/b'), value: b64('3'), prevKv: true }],
  ['/v3/kv/range', { key: b64('gw/a') }],
  ['/v3/kv/range', { key: b64('gw/'), range_end: b64('gw0'), limit: 1, sort_order: 'DESCEND', sort_target: 'KEY' }],
  ['/v3/kv/range', { key: b64('gw/'), rangeEnd: b64('gw0'), sortOrder: 2, sortTarget: 4, limit: '5' }],
  ['/v3/kv/range', { key: b64('gw/'), range_end: b64('gw0'), count_only: true }],
  ['/v3/kv/range', { key: b64('gw/'), range_end: b64('gw0'), keys_only: true, revision: '2' }],
  ['/v3/kv/range', { key: b64('missing') }],
  [
    '/v3/kv/txn',
    {
      compare: [{ target: 'CREATE', key: b64('gw/c'), createRevision: '0' }],
      success: [{ requestPut: { key: b64('gw/c'), value: b64('x') } }, { requestRange: { key: b64('gw/a') } }],
      failure: [{ requestRange: { key: b64('gw/c') } }],
    },
  ],
  [
    '/v3/kv/txn',
    {
      compare: [{ target: 'VALUE', result: 'EQUAL', key: b64('gw/c'), value: b64('nope') }],
      success: [{ request_delete_range: { key: b64('gw/c') } }],
      failure: [{ request_range: { key: b64('gw/c') } }, { request_txn: {} }],
    },
  ],
  ['/v3/kv/deleterange', { key: b64('gw/b'), prev_kv: true }],
  ['/v3/kv/deleterange', { key: b64('gw/none') }],
  ['/v3/lease/grant', { TTL: 60, ID: '4242' }],
  ['/v3/lease/grant', { TTL: '60', ID: 4242 }],
  ['/v3/kv/put', { key: b64('gw/l'), value: b64('v'), lease: '4242' }],
  ['/v3/lease/timetolive', { ID: '4242', keys: true }],
  ['/v3/kv/lease/timetolive', { ID: '999' }],
  ['/v3/lease/leases', {}],
  ['/v3/lease/revoke', { ID: '4242' }],
  ['/v3/kv/lease/revoke', { ID: '4242' }],
  ['/v3/kv/put', { key: b64('gw/l'), value: b64('v'), lease: '777' }],
  ['/v3/lease/grant', { TTL: '9000000001' }],
  ['/v3beta/kv/range', { key: b64('gw/a') }],
  ['/v3/kv/range', { key: '' }],
  ['/v3/kv/range', { key: 'Zm9' }],
  ['/v3/kv/range', { key: 'Zm9vYg' }],
  ['/v3/kv/range', 'not json'],
  ['/v3/kv/range', 'xyz'],
  ['/v3/kv/range', '{"key":'],
  ['/v3/kv/range', '{"key" 1}'],
  ['/v3/kv/range', '{"key":"Z2cvYQ==",}'],
  ['/v3/kv/range', '{"key":"Z2cvYQ=="} trailing'],
  ['/v3/kv/range', { key: b64('a'), limit: 1.5 }],
  ['/v3/kv/range', { key: b64('a'), limit: 'abc' }],
  ['/v3/kv/range', { key: 5 }],
  ['/v3/kv/range', { key: b64('a'), unknown_field: 1 }],
  ['/v3/kv/range', { key: b64('a'), keys_only: 'yes' }],
  ['/v3/kv/range', { key: b64('a'), revision: '100000' }],
  ['/v3/kv/range', ''],
  ['/v3/kv/compaction', { revision: '3' }],
  ['/v3/kv/range', { key: b64('gw/a'), revision: '2' }],
  ['/v3/kv/compaction', { revision: '1' }],
  ['/v3/election/leader', { name: b64('no-such-election') }],
  ['/v3/auth/authenticate', { name: 'root', password: 'x' }],
  ['/v3/maintenance/alarm', {}],
  ['/v3/maintenance/alarm', { action: 'GET', alarm: 'NONE' }],
  ['/v3/maintenance/defragment', {}],
  ['/v3/maintenance/transfer-leadership', { targetID: '12345' }],
  ['/v3/cluster/member/remove', { ID: '12345' }],
  ['/v3/cluster/member/update', { ID: '12345', peerURLs: ['http://127.0.0.1:1'] }],
  ['/v3/cluster/member/promote', { ID: '12345' }],
  ['/v3/cluster/member/add', { peerURLs: ['not a url'] }],
  ['/v3/election/proclaim', { value: b64('v') }],
  ['/v3/election/resign', {}],
  ['/v3/election/proclaim', { leader: { name: b64('e'), key: b64('e/1'), rev: '1', lease: '1' }, value: b64('v') }],
  ['/v3/lock/unlock', { key: b64('no-such-lock/1') }],
  ['/v3/lock/unlock', {}],
];

function describeAnswer(a: HttpAnswer): { status: number; body: unknown } {
  let body: unknown = a.body;
  try {
    body = normalizeJson(JSON.parse(a.body));
  } catch {
    // plain text bodies compare as they are
  }
  return { status: a.status, body };
}

describe('HTTP/JSON gateway, compared with etcd 3.4', { skip: skipUnlessBinaries('etcd') }, () => {
  let etcd: ServerProcess;
  let latchkey: ServerProcess;
  before(async () => {
    [etcd, latchkey] = await Promise.all([startEtcd(), startLatchkey()]);
  });
  after(stopAll);

  test('unary requests answer alike (status, JSON body)', async () => {
    for (const [path, body] of SCRIPT) {
      const [fromEtcd, fromLatchkey] = await Promise.all([post(etcd.clientPort, path, body), post(latchkey.clientPort, path, body)]);
      assert.deepEqual(describeAnswer(fromLatchkey), describeAnswer(fromEtcd), `${path} ${JSON.stringify(body)}`);
    }
  });

  test('member list, status and hash have etcd JSON shapes', async () => {
    for (const path of ['/v3/cluster/member/list', '/v3/maintenance/status', '/v3/maintenance/hash']) {
      const [e, l] = await Promise.all([post(etcd.clientPort, path, {}), post(latchkey.clientPort, path, {})]);
      assert.equal(l.status, e.status, path);
      const keysOf = (text: string): string[] => Object.keys(JSON.parse(text) as object).sort();
      assert.deepEqual(keysOf(l.body).filter((k) => k !== 'dbSizeInUse'), keysOf(e.body).filter((k) => k !== 'dbSizeInUse'), path);
    }
    const members = JSON.parse((await post(latchkey.clientPort, '/v3/cluster/member/list', {})).body) as { header: Record<string, string>; members: Array<Record<string, unknown>> };
    assert.match(members.header.member_id ?? '', /^\d+$/);
    assert.equal(members.members[0]?.ID, members.header.member_id);
  });

  test('CORS headers, OPTIONS, 405, 404 and /version match etcd', async () => {
    const cases: Array<[string, string]> = [
      ['OPTIONS', '/v3/kv/range'],
      ['GET', '/v3/kv/range'],
      ['GET', '/v3alpha/kv/range'],
      ['POST', '/v3/kv/nope'],
      ['GET', '/nothing'],
      ['GET', '/version'],
      ['GET', '/health'],
    ];
    for (const [method, path] of cases) {
      const [e, l] = await Promise.all([request(etcd.clientPort, method, path), request(latchkey.clientPort, method, path)]);
      assert.deepEqual({ status: l.status, body: l.body }, { status: e.status, body: e.body }, `${method} ${path}`);
      for (const h of ['access-control-allow-origin', 'access-control-allow-methods', 'access-control-allow-headers']) {
        assert.equal(l.headers[h], e.headers[h], `${method} ${path} ${h}`);
      }
    }
  });

  test('watch streams {"result":…} lines: created, then events', async () => {
    for (const server of [etcd, latchkey]) {
      const stream = new LineStream(server.clientPort, '/v3/watch', JSON.stringify({ create_request: { key: b64('gw/w'), prev_kv: true } }));
      try {
        const created = (await stream.next()) as { result: Record<string, unknown> };
        assert.equal(created.result.created, true, server.kind);
        await post(server.clientPort, '/v3/kv/put', { key: b64('gw/w'), value: b64('one') });
        await post(server.clientPort, '/v3/kv/put', { key: b64('gw/w'), value: b64('two') });
        const lines: unknown[] = [];
        while (lines.length < 2) {
          const line = (await stream.next()) as { result: { events: unknown[] } };
          lines.push(...line.result.events);
        }
        const events = normalizeJson(lines) as Array<{ type?: string; kv: { value: string }; prev_kv?: { value: string } }>;
        assert.equal(events[0]?.kv.value, b64('one'));
        assert.equal(events[0]?.type, undefined, 'PUT (0) is omitted');
        assert.equal(events[1]?.prev_kv?.value, b64('one'));
      } finally {
        stream.close();
      }
    }
  });

  test('keepalive answers one line per request object, then ends', async () => {
    for (const server of [etcd, latchkey]) {
      const grant = JSON.parse((await post(server.clientPort, '/v3/lease/grant', { TTL: 30 })).body) as { ID: string };
      const stream = new LineStream(server.clientPort, '/v3/lease/keepalive', `${JSON.stringify({ ID: grant.ID })}\n${JSON.stringify({ ID: grant.ID })}`);
      const first = (await stream.next()) as { result: { ID: string; TTL: string } };
      assert.equal(first.result.ID, grant.ID, server.kind);
      assert.equal(first.result.TTL, '30');
      const second = (await stream.next()) as { result: { ID: string } };
      assert.equal(second.result.ID, grant.ID);
      assert.equal(await stream.next(), undefined, `${server.kind}: stream ends after the body`);
    }
  });

  test('lock and unlock over the gateway', async () => {
    const grant = JSON.parse((await post(latchkey.clientPort, '/v3/lease/grant', { TTL: 30 })).body) as { ID: string };
    const locked = await post(latchkey.clientPort, '/v3/lock/lock', { name: b64('gw-lock'), lease: grant.ID });
    assert.equal(locked.status, 200, locked.body);
    const key = (JSON.parse(locked.body) as { key: string }).key;
    assert.ok(Buffer.from(key, 'base64').toString().startsWith('gw-lock/'));
    const unlocked = await post(latchkey.clientPort, '/v3/lock/unlock', { key });
    assert.equal(unlocked.status, 200, unlocked.body);
  });

  test('election campaign, observe stream, leader and resign answer like etcd', async () => {
    for (const server of [etcd, latchkey]) {
      const grant = JSON.parse((await post(server.clientPort, '/v3/lease/grant', { TTL: 30 })).body) as { ID: string };
      const won = await post(server.clientPort, '/v3/election/campaign', { name: b64('gw-elect'), lease: grant.ID, value: b64('me') });
      assert.equal(won.status, 200, `${server.kind}: ${won.body}`);
      const leader = (JSON.parse(won.body) as { leader: { name: string; key: string; rev: string; lease: string } }).leader;
      assert.equal(leader.name, b64('gw-elect'));
      assert.equal(leader.lease, grant.ID);
      const observe = new LineStream(server.clientPort, '/v3/election/observe', JSON.stringify({ name: b64('gw-elect') }));
      try {
        const first = (await observe.next()) as { result: { kv: { value: string } } };
        assert.equal(first.result.kv.value, b64('me'), server.kind);
        const proclaimed = await post(server.clientPort, '/v3/election/proclaim', { leader, value: b64('again') });
        assert.equal(proclaimed.status, 200, proclaimed.body);
        const second = (await observe.next()) as { result: { kv: { value: string } } };
        assert.equal(second.result.kv.value, b64('again'));
      } finally {
        observe.close();
      }
      const current = JSON.parse((await post(server.clientPort, '/v3/election/leader', { name: b64('gw-elect') })).body) as { kv: { value: string } };
      assert.equal(current.kv.value, b64('again'));
      const resigned = await post(server.clientPort, '/v3/election/resign', { leader });
      assert.equal(resigned.status, 200, resigned.body);
    }
  });

  test('gRPC still works on the same port (etcdctl-style client via HTTP/2)', async () => {
    const { EtcdClient } = await import('../support/etcd-client');
    const client = new EtcdClient(latchkey.endpoint);
    try {
      const answer = await client.range({ key: Buffer.from('gw/a') });
      assert.equal(Buffer.from(answer.kvs[0].value).toString(), '2');
    } finally {
      client.close();
    }
  });
});

describe('gateway streams at shutdown', () => {
  after(stopAll);

  test('SIGTERM ends an open HTTP watch with an UNAVAILABLE error line and the server exits promptly', async () => {
    const server = await startLatchkey();
    const stream = new LineStream(server.clientPort, '/v3/watch', JSON.stringify({ create_request: { key: b64('shutdown') } }));
    const created = (await stream.next()) as { result: { created?: boolean } };
    assert.equal(created.result.created, true);
    const started = Date.now();
    const exit = server.stop('SIGTERM');
    const last = (await stream.next()) as { error: { grpc_code: number; http_code: number; message: string } };
    assert.deepEqual(last.error, { grpc_code: 14, http_code: 503, message: 'etcdserver: server stopped', http_status: 'Service Unavailable' });
    assert.equal(await stream.next(), undefined);
    assert.equal((await exit).code, 0);
    assert.ok(Date.now() - started < 5000, 'the open HTTP stream did not hold up the shutdown');
  });
});
