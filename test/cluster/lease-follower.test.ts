import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startCluster, stopAll, type ServerProcess } from '../support/processes';
import { Clients, TIMING_ARGS, clusterTarget, stableLeader, type LeaderView } from './harness';

/**
 * Only the leader knows when a lease expires. A follower asked for a lease's TimeToLive
 * answers what the leader says (etcd forwards it), not the granted TTL it knows from the log.
 */
const kind = clusterTarget();

describe(`lease TimeToLive through a follower (${kind})`, () => {
  const clients = new Clients();
  let members: ServerProcess[] = [];
  let view: LeaderView;

  before(async () => {
    members = await startCluster(kind, { size: 3, namePrefix: 'ttl-m', extraArgs: TIMING_ARGS });
    view = await stableLeader(clients, members);
  });
  after(async () => {
    clients.closeAll();
    await stopAll();
  });

  const ttlOf = async (member: ServerProcess, id: string, keys = false): Promise<{ TTL: number; grantedTTL: number; keys: string[] }> => {
    const answer = await clients.of(member).leaseTimeToLive({ ID: id, keys });
    const keyList = (answer.keys as Buffer[] | undefined) ?? [];
    return { TTL: Number(answer.TTL ?? 0), grantedTTL: Number(answer.grantedTTL ?? 0), keys: keyList.map(String).sort() };
  };

  test("a follower reports the leader's remaining TTL, counting down, with the keys", async () => {
    const follower = view.followers[0]!;
    const granted = await clients.of(follower).leaseGrant({ TTL: 30 });
    const id = String(granted.ID);
    await clients.of(follower).put({ key: Buffer.from('ttl/a'), value: Buffer.from('1'), lease: id });
    // Read in this order, the leader's countdown brackets the follower's answer. The remaining
    // time is rounded down, so just after a grant of 30 s it is 29 (etcd-api-facts.md).
    const before = await ttlOf(view.leader, id);
    const fromFollower = await ttlOf(follower, id, true);
    const after = await ttlOf(view.leader, id);
    assert.ok(before.TTL < 30, `leader: ${before.TTL} s left of 30`);
    assert.ok(fromFollower.TTL <= before.TTL && fromFollower.TTL >= after.TTL, `follower says ${fromFollower.TTL} s, leader ${before.TTL} then ${after.TTL}`);
    assert.equal(fromFollower.grantedTTL, 30);
    assert.deepEqual(fromFollower.keys, ['ttl/a']);
  });

  test('a follower reports an unknown lease as TTL -1 without an error', async () => {
    const answer = await ttlOf(view.followers[1]!, '8000123');
    assert.equal(answer.TTL, -1);
  });
});
