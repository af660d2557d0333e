import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { EtcdClient } from '../support/etcd-client';
import { freePort } from '../support/ports';
import { startCluster, startLatchkey, stopAll, type ServerProcess } from '../support/processes';
import { post, request } from '../gateway/http-client';
import { parseExposition, sumOf, type Exposition } from './prom-text';

async function scrape(port: number): Promise<Exposition> {
  const answer = await request(port, 'GET', '/metrics');
  assert.equal(answer.status, 200);
  assert.match(String(answer.headers['content-type']), /^text\/plain/);
  return parseExposition(answer.body);
}

describe('/metrics', () => {
  let server: ServerProcess;
  let metricsPort: number;
  before(async () => {
    metricsPort = await freePort();
    server = await startLatchkey({ extraArgs: ['--listen-metrics-urls', `http://127.0.0.1:${metricsPort}`] });
  });
  after(stopAll);

  test('serves Prometheus text with etcd metric names and types', async () => {
    const metrics = await scrape(server.clientPort);
    const expected: Record<string, string> = {
      etcd_server_has_leader: 'gauge',
      etcd_server_is_leader: 'gauge',
      etcd_server_leader_changes_seen_total: 'counter',
      etcd_server_proposals_committed_total: 'gauge',
      etcd_server_proposals_applied_total: 'gauge',
      etcd_server_proposals_pending: 'gauge',
      etcd_server_proposals_failed_total: 'counter',
      etcd_disk_wal_fsync_duration_seconds: 'histogram',
      etcd_disk_backend_commit_duration_seconds: 'histogram',
      etcd_mvcc_db_total_size_in_bytes: 'gauge',
      etcd_debugging_mvcc_keys_total: 'gauge',
      etcd_network_peer_round_trip_time_seconds: 'histogram',
      grpc_server_handled_total: 'counter',
      latchkey_lock_waiters: 'gauge',
      latchkey_lock_hold_seconds: 'histogram',
      latchkey_lock_handover_seconds: 'histogram',
    };
    for (const [name, type] of Object.entries(expected)) assert.equal(metrics.types.get(name), type, name);
    assert.equal(sumOf(metrics, 'etcd_server_has_leader'), 1);
    assert.equal(sumOf(metrics, 'etcd_server_is_leader'), 1);
    assert.ok(sumOf(metrics, 'etcd_server_leader_changes_seen_total') >= 1);
    assert.ok(sumOf(metrics, 'etcd_mvcc_db_total_size_in_bytes') > 0);
  });

  test('counters move under load (gRPC and gateway requests)', async () => {
    const before = await scrape(server.clientPort);
    const client = new EtcdClient(server.endpoint);
    try {
      for (let i = 0; i < 20; i++) await client.put({ key: Buffer.from(`m/${i}`), value: Buffer.from('v') });
      await assert.rejects(client.range({ key: Buffer.alloc(0) }));
    } finally {
      client.close();
    }
    for (let i = 0; i < 5; i++) await post(server.clientPort, '/v3/kv/put', { key: Buffer.from(`g/${i}`).toString('base64'), value: 'dg==' });
    const afterLoad = await scrape(server.clientPort);
    const putsOk = (m: Exposition): number => sumOf(m, 'grpc_server_handled_total', { grpc_service: 'etcdserverpb.KV', grpc_method: 'Put', grpc_code: 'OK', grpc_type: 'unary' });
    assert.equal(putsOk(afterLoad) - putsOk(before), 25);
    const badRanges = (m: Exposition): number => sumOf(m, 'grpc_server_handled_total', { grpc_method: 'Range', grpc_code: 'InvalidArgument' });
    assert.equal(badRanges(afterLoad) - badRanges(before), 1);
    assert.ok(sumOf(afterLoad, 'etcd_server_proposals_applied_total') - sumOf(before, 'etcd_server_proposals_applied_total') >= 25);
    assert.ok(sumOf(afterLoad, 'etcd_server_proposals_committed_total') - sumOf(before, 'etcd_server_proposals_committed_total') >= 25);
    assert.ok(sumOf(afterLoad, 'etcd_disk_wal_fsync_duration_seconds_count') > sumOf(before, 'etcd_disk_wal_fsync_duration_seconds_count'));
    assert.equal(sumOf(afterLoad, 'etcd_debugging_mvcc_keys_total') - sumOf(before, 'etcd_debugging_mvcc_keys_total'), 25);
    assert.equal(sumOf(afterLoad, 'etcd_server_proposals_pending'), 0);
  });

  test('the WAL fsync histogram counts fsyncs, not the unsynced commit-index saves between them', async () => {
    // In a cluster every member saves twice per sequential put: the entry (fsynced) and,
    // once it commits, the new commit index (written, not fsynced: etcd's raft.MustSync).
    const members = await startCluster('latchkey', { size: 3, namePrefix: 'fsync-m' });
    const fsyncCounts = async (): Promise<number[]> =>
      Promise.all(members.map(async (m) => sumOf(await scrape(m.clientPort), 'etcd_disk_wal_fsync_duration_seconds_count')));
    const before = await fsyncCounts();
    const client = new EtcdClient(members[0]!.endpoint);
    try {
      for (let i = 0; i < 25; i++) await client.put({ key: Buffer.from(`fsync/${i}`), value: Buffer.from('v') });
    } finally {
      client.close();
    }
    const after = await fsyncCounts();
    const fsyncs = after.map((count, i) => count - before[i]!);
    // Counting the commit-index saves too would give ~50 per member. A follower may fsync two
    // puts at once (the leader and the other follower commit without it, and the next put's
    // entry arrives before its Ready runs), but the leader fsyncs every put's entry on its own.
    fsyncs.forEach((count, i) => assert.ok(count <= 30, `member ${i}: ${count} fsyncs for 25 sequential puts`));
    assert.ok(Math.max(...fsyncs) >= 25, `no member fsynced every put: ${fsyncs.join(', ')}`);
  });

  test('lock metrics: waiters, hold time and handover through the v3lock gateway', async () => {
    const b64 = (text: string): string => Buffer.from(text).toString('base64');
    const lease = async (): Promise<string> => (JSON.parse((await post(server.clientPort, '/v3/lease/grant', { TTL: 30 })).body) as { ID: string }).ID;
    const first = JSON.parse((await post(server.clientPort, '/v3/lock/lock', { name: b64('mlock'), lease: await lease() })).body) as { key: string };
    const second = post(server.clientPort, '/v3/lock/lock', { name: b64('mlock'), lease: await lease() });
    const deadline = Date.now() + 5000;
    while (sumOf(await scrape(server.clientPort), 'latchkey_lock_waiters') !== 1) {
      assert.ok(Date.now() < deadline, 'the second locker never showed as waiting');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await post(server.clientPort, '/v3/lock/unlock', { key: first.key });
    const won = JSON.parse((await second).body) as { key: string };
    assert.ok(Buffer.from(won.key, 'base64').toString().startsWith('mlock/'));
    const metrics = await scrape(server.clientPort);
    assert.equal(sumOf(metrics, 'latchkey_lock_waiters'), 0);
    assert.equal(sumOf(metrics, 'latchkey_lock_hold_seconds_count'), 1);
    assert.equal(sumOf(metrics, 'latchkey_lock_handover_seconds_count'), 1);
  });

  test('--listen-metrics-urls serves /metrics and /health, not the gateway', async () => {
    const metrics = await scrape(metricsPort);
    assert.equal(sumOf(metrics, 'etcd_server_has_leader'), 1);
    const health = await request(metricsPort, 'GET', '/health');
    assert.deepEqual({ status: health.status, body: JSON.parse(health.body) as unknown }, { status: 200, body: { health: 'true' } });
    const gateway = await post(metricsPort, '/v3/kv/range', { key: 'YQ==' });
    assert.equal(gateway.status, 404);
  });
});
