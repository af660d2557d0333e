import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Wire } from '../support/etcd-client';
import { etcdctlOk } from '../support/etcdctl';
import { ServerProcess, startCluster, stopAll } from '../support/processes';
import { skipUnlessBinaries } from '../support/skip';
import {
  Clients,
  ELECTION_TIMEOUT_MS,
  POLL_INTERVAL_MS,
  TIMING_ARGS,
  bytes,
  clusterTarget,
  describeError,
  exitWithin,
  initialClusterOf,
  killMembers,
  lostWrites,
  memberStatus,
  parseJsonKeepingBigInts,
  pollUntil,
  readPrefix,
  restartMember,
  signalMember,
  stableLeader,
  startWriter,
  tail,
} from './harness';

/**
 * One 3-member cluster shared by the tests below, in order: follower writes, endpoint status,
 * a minority partition (SIGSTOP/SIGCONT), kill -9 of the leader with restart, and last
 * SIGTERM of the leader (which leaves two members). Each test starts by waiting for a stable
 * leader, so one that breaks the cluster makes the next fail with a clear message.
 */
const kind = clusterTarget();
const CLUSTER_SIZE = 3;
const SHORT_DEADLINE_MS = 2_000;

describe(`cluster failover (${kind}, ${CLUSTER_SIZE} members)`, { skip: skipUnlessBinaries(...(kind === 'etcd' ? ['etcd', 'etcdctl'] : ['etcdctl'])) }, () => {
  const clients = new Clients();
  let members: ServerProcess[] = [];
  let initialCluster = '';

  before(async () => {
    members = await startCluster(kind, { size: CLUSTER_SIZE, namePrefix: 'fo', extraArgs: TIMING_ARGS });
    initialCluster = initialClusterOf(members);
  });

  after(async () => {
    clients.closeAll();
    await killMembers(members);
    await stopAll();
  });

  test('a put on a follower is seen at once by a linearizable get on every other member', { timeout: 30_000 }, async () => {
    const view = await stableLeader(clients, members);
    for (let i = 0; i < 20; i++) {
      const writer = view.followers[i % view.followers.length]!;
      const key = bytes(`follower-put/${i}`);
      const value = bytes(`value-${i}`);
      const put = await clients.of(writer).put({ key, value }, { deadlineMs: 5_000 });
      assert.equal(BigInt(put.header.member_id), view.ids.get(writer), 'the header names the member that took the request');
      for (const reader of members.filter((m) => m !== writer)) {
        const got = await clients.of(reader).range({ key }, { deadlineMs: 5_000 });
        assert.equal(got.kvs?.length, 1, `${reader.name} does not see ${key} right after the put on ${writer.name}`);
        assert.equal((got.kvs[0].value as Buffer).toString(), value.toString());
        assert.ok(BigInt(got.header.revision) >= BigInt(put.header.revision), `${reader.name} answered at an older revision`);
      }
    }
  });

  test('etcdctl endpoint status --cluster shows the true leader, term and indexes for every member', { timeout: 30_000 }, async () => {
    const view = await stableLeader(clients, members);
    const text = await etcdctlOk(view.followers[0]!.endpoint, ['endpoint', 'status', '--cluster', '-w', 'json']);
    const rows = parseJsonKeepingBigInts(text) as Wire[];
    assert.ok(Array.isArray(rows), `not a JSON array: ${text}`);
    assert.deepEqual(rows.map((row) => row.Endpoint as string).sort(), members.map((m) => m.clientUrl).sort(), 'one row per member');
    const memberIds = new Set([...view.ids.values()]);
    for (const row of rows) {
      const status = row.Status as Wire;
      const memberId = BigInt(status.header.member_id);
      assert.ok(memberIds.has(memberId), `${row.Endpoint}: unknown member id ${memberId}`);
      assert.equal(BigInt(status.leader), view.leaderId, `${row.Endpoint} names another leader`);
      assert.equal(BigInt(status.raftTerm), view.term, `${row.Endpoint}: raft term`);
      assert.equal(BigInt(status.header.raft_term), view.term, `${row.Endpoint}: header raft_term`);
      assert.ok(BigInt(status.raftIndex) > 0n, `${row.Endpoint}: raftIndex`);
      assert.ok(BigInt(status.raftAppliedIndex) <= BigInt(status.raftIndex), `${row.Endpoint}: applied index above the raft index`);
    }
    const leaderRow = rows.find((row) => BigInt((row.Status as Wire).header.member_id) === view.leaderId);
    assert.equal(leaderRow?.Endpoint, view.leader.clientUrl, 'the leader id belongs to the member that says it leads');
  });

  test('a minority cannot commit or read linearizably, serves serializable reads, and the cluster recovers', { timeout: 60_000 }, async () => {
    const view = await stableLeader(clients, members);
    // The leader is the lone member: the case where a stale linearizable read would be easiest to serve.
    const lone = view.leader;
    const others = view.followers;
    const client = clients.of(lone);
    const key = bytes('minority/committed');
    await client.put({ key, value: bytes('before-partition') });
    await pollUntil(`${lone.name} applied the last put`, 5_000, async () => {
      const got = await client.range({ key, serializable: true });
      return (got.kvs?.[0]?.value as Buffer | undefined)?.toString() === 'before-partition' ? true : undefined;
    });

    try {
      for (const member of others) signalMember(member, 'SIGSTOP');
      await assert.rejects(
        client.put({ key: bytes('minority/uncommittable'), value: bytes('x') }, { deadlineMs: SHORT_DEADLINE_MS }),
        'a put on the minority must fail',
      );
      await assert.rejects(client.range({ key }, { deadlineMs: SHORT_DEADLINE_MS }), 'a linearizable get on the minority must fail');
      const serializable = await client.range({ key, serializable: true }, { deadlineMs: SHORT_DEADLINE_MS });
      assert.equal((serializable.kvs?.[0]?.value as Buffer | undefined)?.toString(), 'before-partition');
    } finally {
      for (const member of others) signalMember(member, 'SIGCONT');
    }

    const recoveredAt = Date.now();
    await pollUntil('a put after the partition healed', 10 * ELECTION_TIMEOUT_MS, async () => {
      await client.put({ key, value: bytes('after-partition') }, { deadlineMs: SHORT_DEADLINE_MS });
      return true;
    });
    const got = await client.range({ key }, { deadlineMs: 5_000 });
    assert.equal((got.kvs?.[0]?.value as Buffer | undefined)?.toString(), 'after-partition');
    await stableLeader(clients, members);
    process.stderr.write(`# ${kind}: writes resumed ${Date.now() - recoveredAt} ms after SIGCONT\n`);
  });

  test('kill -9 of the leader: a new leader within 3 election timeouts, no acknowledged write lost, the old leader catches up', { timeout: 90_000 }, async () => {
    const view = await stableLeader(clients, members);
    const old = view.leader;
    const survivors = view.followers;
    const acknowledged = new Map<string, string>();
    const put = async (via: ServerProcess, key: string, value: string): Promise<void> => {
      await clients.of(via).put({ key: bytes(key), value: bytes(value) }, { deadlineMs: SHORT_DEADLINE_MS });
      acknowledged.set(key, value);
    };
    for (let i = 0; i < 30; i++) await put(members[i % members.length]!, `kill9/before/${i}`, `b${i}`);
    // A background writer runs through the kill (to every member until then, to the survivors after).
    let targets = [...members];
    const writer = startWriter(clients, 'kill9/background/', () => targets);
    await pollUntil('background writes before the kill', 10_000, async () => (writer.acknowledged.size >= 20 ? true : undefined));

    const killedAt = Date.now();
    targets = survivors;
    await old.kill9();
    const newLeaderId = await pollUntil('a survivor reporting a new leader', 6 * ELECTION_TIMEOUT_MS, async () => {
      for (const survivor of survivors) {
        const status = await memberStatus(clients.of(survivor), 500).catch(() => undefined);
        if (status !== undefined && status.leaderId !== 0n && status.leaderId !== view.leaderId) return status.leaderId;
      }
      return undefined;
    });
    const electionMs = Date.now() - killedAt;
    process.stderr.write(`# ${kind}: new leader ${newLeaderId.toString(16)} ${electionMs} ms after kill -9\n`);
    assert.ok(electionMs <= 3 * ELECTION_TIMEOUT_MS, `new leader after ${electionMs} ms (bound ${3 * ELECTION_TIMEOUT_MS} ms)`);
    if (kind === 'latchkey') {
      // The survivors' dials to the dead leader are refused: they stop waiting out the election timeout.
      const told = survivors.filter((s) => s.output().includes("the leader's peer port refuses connections"));
      assert.ok(told.length > 0, `no survivor noticed the leader's port refusing connections:\n${survivors.map(tail).join('\n')}`);
    }

    // Writes go on through both survivors (a survivor may need a moment to learn the leader).
    for (let i = 0; i < 30; i++) {
      const via = survivors[i % survivors.length]!;
      await pollUntil(`put ${i} through ${via.name} after the failover`, 3 * ELECTION_TIMEOUT_MS, async () => {
        await put(via, `kill9/after/${i}`, `a${i}`);
        return true;
      });
    }
    const lastKey = 'kill9/after/29';
    await writer.stop();
    for (const [key, value] of writer.acknowledged) acknowledged.set(key, value);
    process.stderr.write(`# ${kind}: background writer: ${writer.acknowledged.size} acknowledged, ${writer.failures.length} failed\n`);

    const restarted = await restartMember(kind, old, initialCluster, TIMING_ARGS);
    members[members.indexOf(old)] = restarted;
    clients.forget(restarted);
    const restartedClient = clients.of(restarted);
    await pollUntil(`${restarted.name} serving the latest key after its restart`, 20_000, async () => {
      const got = await restartedClient.range({ key: bytes(lastKey), serializable: true }, { deadlineMs: 1_000 });
      return (got.kvs?.[0]?.value as Buffer | undefined)?.toString() === acknowledged.get(lastKey) ? true : undefined;
    }).catch((error: unknown) => assert.fail(`${describeError(error)}\n${tail(restarted)}`));

    for (const [member, serializable] of [[restarted, true], [survivors[0]!, false], [survivors[1]!, true]] as const) {
      const stored = await readPrefix(clients.of(member), 'kill9/', serializable);
      assert.deepEqual(lostWrites(acknowledged, stored), [], `acknowledged writes missing on ${member.name}`);
    }
    await stableLeader(clients, members);
  });

  test('SIGTERM of the leader hands leadership over: a new leader within one election timeout of its exit', { timeout: 60_000 }, async () => {
    const view = await stableLeader(clients, members);
    const old = view.leader;
    const survivors = view.followers;
    let newLeaderSeenAt: number | undefined;
    let watching = true;
    const watcher = (async () => {
      const bound = Date.now() + 20_000;
      while (watching && newLeaderSeenAt === undefined && Date.now() < bound) {
        for (const survivor of survivors) {
          const status = await memberStatus(clients.of(survivor), 300).catch(() => undefined);
          if (status !== undefined && status.leaderId !== 0n && status.leaderId !== view.leaderId) newLeaderSeenAt ??= Date.now();
        }
        await new Promise((resolve) => setTimeout(resolve, POLL_INTERVAL_MS));
      }
    })();

    signalMember(old, 'SIGTERM');
    await exitWithin(old, 15_000);
    const exitedAt = Date.now();
    try {
      await pollUntil('a new leader seen by a survivor', 3 * ELECTION_TIMEOUT_MS, async () => (newLeaderSeenAt !== undefined ? true : undefined));
    } finally {
      watching = false;
      await watcher;
    }
    const delayMs = newLeaderSeenAt! - exitedAt;
    process.stderr.write(`# ${kind}: new leader seen ${delayMs} ms after the old leader exited (negative = before)\n`);
    assert.ok(delayMs <= ELECTION_TIMEOUT_MS, `new leader ${delayMs} ms after the exit (bound ${ELECTION_TIMEOUT_MS} ms)\n${tail(old)}`);
    await clients.of(survivors[0]!).put({ key: bytes('sigterm/after'), value: bytes('ok') }, { deadlineMs: 5_000 });
  });
});
