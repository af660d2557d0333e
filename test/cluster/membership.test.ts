import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Wire } from '../support/etcd-client';
import { etcdctlOk } from '../support/etcdctl';
import { freePorts } from '../support/ports';
import { ServerProcess, startCluster, startServerOfKind, stopAll } from '../support/processes';
import { skipUnlessBinaries } from '../support/skip';
import {
  Clients,
  ELECTION_TIMEOUT_MS,
  TIMING_ARGS,
  bytes,
  clusterTarget,
  describeError,
  startWriter,
  exitWithin,
  initialClusterOf,
  killMembers,
  lostWrites,
  memberStatus,
  parseJsonKeepingBigInts,
  pollUntil,
  readPrefix,
  stableLeader,
  tail,
} from './harness';

/**
 * Membership change one member at a time while a writer runs: add a learner, start it
 * joining the existing cluster, promote it once caught up, remove another member (which
 * stops itself). Every acknowledged write must be there at the end.
 */
const kind = clusterTarget();
/** The longest the writer may go without an acknowledged put while membership changes. */
const MAX_WRITE_GAP_MS = 2 * ELECTION_TIMEOUT_MS;
/** etcd exits within about a second of applying its own removal. */
const REMOVED_EXIT_BOUND_MS = 15_000;

describe(`membership changes (${kind})`, { skip: skipUnlessBinaries(...(kind === 'etcd' ? ['etcd', 'etcdctl'] : ['etcdctl'])) }, () => {
  const clients = new Clients();
  let members: ServerProcess[] = [];

  before(async () => {
    members = await startCluster(kind, { size: 3, namePrefix: 'mb', extraArgs: TIMING_ARGS });
  });

  after(async () => {
    clients.closeAll();
    await killMembers(members);
    await stopAll();
  });

  test('add a learner, promote it once caught up, remove another member; writes go on throughout', { timeout: 120_000 }, async () => {
    const view = await stableLeader(clients, members);
    const removed = view.followers[1]!;
    const staying = members.filter((m) => m !== removed);
    const writer = startWriter(clients, 'members/', () => staying);
    let learner: ServerProcess | undefined;
    let notExited: unknown;
    try {
      // 1. MemberAdd as a learner.
      const [clientPort, peerPort] = await freePorts(2);
      const learnerName = 'mb3';
      const learnerPeerUrl = `http://127.0.0.1:${peerPort}`;
      // etcd refuses reconfiguration ("unhealthy cluster") until the leader has been connected
      // to every voter for 5 s: retry, bounded.
      const addStartedAt = Date.now();
      const addErrors: string[] = [];
      const added = await pollUntil('MemberAdd accepted', 20_000, () =>
        clients
          .of(view.leader)
          .call('Cluster', 'MemberAdd', { peerURLs: [learnerPeerUrl], isLearner: true }, { deadlineMs: 2_000 })
          .catch((error: unknown) => {
            if (addErrors.length < 20) addErrors.push(describeError(error));
            throw error;
          }),
      );
      process.stderr.write(`# ${kind}: MemberAdd accepted after ${Date.now() - addStartedAt} ms; refused: ${[...new Set(addErrors)].join(' | ') || 'never'}\n`);
      const learnerId = BigInt(added.member.ID);
      assert.equal(added.member.isLearner, true);
      assert.equal((added.members as Wire[]).length, 4);

      // 2. Start it joining the existing cluster.
      learner = await startServerOfKind(kind, {
        name: learnerName,
        clientPort,
        peerPort,
        initialCluster: initialClusterOf([...members, { name: learnerName, peerUrl: learnerPeerUrl }]),
        initialClusterState: 'existing',
        extraArgs: TIMING_ARGS,
        readiness: 'status',
      });
      members.push(learner);
      const learnerClient = clients.of(learner);
      const learnerStatus = await memberStatus(learnerClient);
      assert.equal(learnerStatus.memberId, learnerId, 'the new member took the id MemberAdd gave it');
      assert.equal(learnerStatus.isLearner, true);

      // 3. It catches up: its serializable reads show the writer's latest keys.
      const markerKey = bytes('members/marker');
      await clients.of(view.leader).put({ key: markerKey, value: bytes('learner-sees-this') });
      await pollUntil('the learner applying the marker key', 20_000, async () => {
        const got = await learnerClient.range({ key: markerKey, serializable: true }, { deadlineMs: 1_000 });
        return got.kvs?.length === 1 ? true : undefined;
      }).catch((error: unknown) => assert.fail(`${describeError(error)}\n${tail(learner!)}`));

      // 4. Promote (etcd refuses until the learner is in sync: retry, bounded).
      const promoted = await pollUntil('MemberPromote accepted', 20_000, () =>
        clients.of(view.leader).call('Cluster', 'MemberPromote', { ID: learnerId.toString() }, { deadlineMs: 2_000 }),
      );
      const promotedEntry = (promoted.members as Wire[]).find((m) => BigInt(m.ID) === learnerId);
      assert.ok(promotedEntry !== undefined && promotedEntry.isLearner !== true, 'the member is a voter after promotion');
      await pollUntil('the promoted member reporting itself as a voter', 10_000, async () =>
        (await memberStatus(learnerClient)).isLearner ? undefined : true,
      );

      // 5. Remove a follower; it stops by itself.
      const removedId = view.ids.get(removed)!;
      await pollUntil('MemberRemove accepted', 20_000, () =>
        clients.of(view.leader).call('Cluster', 'MemberRemove', { ID: removedId.toString() }, { deadlineMs: 2_000 }),
      );
      // A member that does not stop itself fails the test, but only at the end, so the
      // rest (writes, final membership) is still checked; it is killed to go on.
      notExited = await exitWithin(removed, REMOVED_EXIT_BOUND_MS).then(
        () => undefined,
        (error: unknown) => error,
      );
      if (notExited !== undefined) await removed.kill9();
      members.splice(members.indexOf(removed), 1);
      clients.forget(removed);

      // Let the writer run a little longer against the final membership.
      const ackedBefore = writer.acknowledged.size;
      await pollUntil('more writes after the removal', 10_000, async () => (writer.acknowledged.size >= ackedBefore + 20 ? true : undefined));
    } finally {
      await writer.stop();
    }

    process.stderr.write(`# ${kind}: ${writer.acknowledged.size} writes acknowledged, ${writer.failures.length} failed, longest gap ${writer.maxGapMs} ms\n`);
    assert.ok(writer.acknowledged.size >= 50, `only ${writer.acknowledged.size} writes acknowledged; failures: ${writer.failures.join('; ')}`);
    assert.ok(writer.maxGapMs <= MAX_WRITE_GAP_MS, `writes stalled for ${writer.maxGapMs} ms; failures: ${writer.failures.join('; ')}`);
    const finalView = await stableLeader(clients, members);
    for (const member of members) {
      const stored = await readPrefix(clients.of(member), 'members/', false);
      const lost = lostWrites(writer.acknowledged, stored);
      assert.deepEqual(lost.slice(0, 10), [], `${lost.length} acknowledged writes missing on ${member.name}`);
    }

    // etcdctl member list shows exactly the final membership, all voters, all started.
    const listed = parseJsonKeepingBigInts(await etcdctlOk(learner!.endpoint, ['member', 'list', '-w', 'json']));
    const rows = (listed.members as Wire[]).map((m) => ({
      id: BigInt(m.ID),
      name: m.name as string,
      peerURLs: m.peerURLs as string[],
      clientURLs: m.clientURLs as string[],
      learner: m.isLearner === true,
    }));
    const expected = members.map((m) => ({
      id: finalView.ids.get(m)!,
      name: m.name,
      peerURLs: [m.peerUrl],
      clientURLs: [m.clientUrl],
      learner: false,
    }));
    const byId = (a: { id: bigint }, b: { id: bigint }): number => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
    assert.deepEqual(rows.sort(byId), expected.sort(byId));
    if (notExited !== undefined) throw notExited;
  });
});
