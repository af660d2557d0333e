import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { RpcError } from '../support/etcd-client';
import { startCluster, stopAll, type ServerProcess } from '../support/processes';
import {
  Clients,
  TIMING_ARGS,
  bytes,
  describeError,
  exitWithin,
  initialClusterOf,
  killMembers,
  pollUntil,
  restartMember,
  signalMember,
  stableLeader,
  tail,
} from '../cluster/harness';

const SNAPSHOT_COUNT = 50;
const CATCHUP_ENTRIES = 20;
const CLUSTER_ARGS = [
  ...TIMING_ARGS,
  '--bcrypt-cost', '4',
  '--snapshot-count', String(SNAPSHOT_COUNT),
  '--snapshot-catchup-entries', String(CATCHUP_ENTRIES),
];

async function rejects(call: Promise<unknown>, code: number, message: string): Promise<void> {
  await assert.rejects(call, (err: unknown) => {
    assert.ok(err instanceof RpcError, `expected an RpcError, got ${describeError(err)}`);
    assert.equal(err.details, message);
    assert.equal(err.code, code);
    return true;
  });
}

/**
 * Auth on a 3-member latchkey cluster: the state is replicated by Raft, a token issued by
 * one member is accepted by the others (each applied the Authenticate entry), and a member
 * that catches up from a snapshot has the users and roles.
 */
describe('auth on a 3-member cluster', () => {
  const clients = new Clients();
  let members: ServerProcess[] = [];

  before(async () => {
    members = await startCluster('latchkey', { size: 3, namePrefix: 'auth', extraArgs: CLUSTER_ARGS });
  });

  after(async () => {
    clients.closeAll();
    await killMembers(members);
    await stopAll();
  });

  test('auth changes replicate, never move the KV revision, and tokens work on every member', { timeout: 60_000 }, async () => {
    const [a, b, c] = members.map((m) => clients.of(m)) as [ReturnType<Clients['of']>, ReturnType<Clients['of']>, ReturnType<Clients['of']>];
    const put = await a.put({ key: bytes('auth-test/k'), value: bytes('v') });
    const kvRevision = String(put.header.revision);
    const answers = [
      await a.call('Auth', 'UserAdd', { name: 'root', password: 'rootpw' }),
      await b.call('Auth', 'RoleAdd', { name: 'root' }),
      await c.call('Auth', 'UserGrantRole', { user: 'root', role: 'root' }),
      await a.call('Auth', 'UserAdd', { name: 'app', password: 'apppw' }),
      await a.call('Auth', 'AuthEnable', {}),
    ];
    for (const answer of answers) assert.equal(String(answer.header.revision), kvRevision, 'auth ops keep the KV revision');

    const { token } = await a.call('Auth', 'Authenticate', { name: 'root', password: 'rootpw' });
    assert.match(token, /^[a-zA-Z]{16}\.\d+$/);
    // B and C applied the Authenticate entry (a moment after A answered): the token is theirs too.
    for (const other of [b, c]) {
      const list = await pollUntil('the token accepted', 10_000, async () => {
        try {
          return await other.call('Auth', 'UserList', {}, { metadata: { token } });
        } catch (err) {
          if (err instanceof RpcError && err.details === 'etcdserver: invalid auth token') return undefined;
          throw err;
        }
      });
      assert.deepEqual(list.users, ['app', 'root']);
      assert.equal(String(list.header.revision), kvRevision);
    }

    await rejects(b.call('Auth', 'Authenticate', { name: 'root', password: 'nope' }), 3, 'etcdserver: authentication failed, invalid user ID or password');
    await rejects(c.call('Auth', 'Authenticate', { name: 'ghost', password: 'x' }), 3, 'etcdserver: authentication failed, invalid user ID or password');
    await rejects(c.call('Auth', 'UserList', {}), 3, 'etcdserver: user name is empty');
    await rejects(c.call('Auth', 'UserList', {}, { metadata: { token: 'bogusbogusbogusb.1' } }), 16, 'etcdserver: invalid auth token');
    const { token: appToken } = await b.call('Auth', 'Authenticate', { name: 'app', password: 'apppw' });
    await rejects(b.call('Auth', 'RoleList', {}, { metadata: { token: appToken } }), 7, 'etcdserver: permission denied');
    const self = await b.call('Auth', 'UserGet', { name: 'app' }, { metadata: { token: appToken } });
    assert.deepEqual(self.roles ?? [], []);
  });

  test('a member that catches up from a snapshot has the users, roles and enabled flag', { timeout: 120_000 }, async () => {
    const initialCluster = initialClusterOf(members);
    const view = await stableLeader(clients, members);
    const down = view.followers[0]!;
    signalMember(down, 'SIGTERM');
    await exitWithin(down, 15_000);

    const leader = clients.of(view.leader);
    const { token } = await leader.call('Auth', 'Authenticate', { name: 'root', password: 'rootpw' });
    const md = { metadata: { token } };
    await leader.call('Auth', 'UserAdd', { name: 'late', password: 'latepw' }, md);
    await leader.call('Auth', 'RoleAdd', { name: 'late-role' }, md);
    await leader.call('Auth', 'RoleGrantPermission', { name: 'late-role', perm: { permType: 2, key: bytes('/late/'), range_end: bytes('/late0') } }, md);
    await leader.call('Auth', 'UserGrantRole', { user: 'late', role: 'late-role' }, md);
    // Enough entries that the leader snapshots and compacts past the stopped member's log.
    for (let i = 0; i < SNAPSHOT_COUNT + CATCHUP_ENTRIES + 30; i++) {
      await leader.put({ key: bytes(`/late/${i % 10}`), value: bytes(`v${i}`) }, md);
    }

    const restarted = await restartMember('latchkey', down, initialCluster, CLUSTER_ARGS);
    members[members.indexOf(down)] = restarted;
    clients.forget(restarted);
    const client = clients.of(restarted);
    const late = await pollUntil('the restarted member knows user late', 60_000, async () => {
      const { token: lateToken } = await client.call('Auth', 'Authenticate', { name: 'late', password: 'latepw' }, { deadlineMs: 2_000 });
      return client.call('Auth', 'UserGet', { name: 'late' }, { metadata: { token: lateToken }, deadlineMs: 2_000 });
    }).catch((err: unknown) => assert.fail(`${describeError(err)}\n${tail(restarted)}`));
    assert.deepEqual(late.roles, ['late-role']);
    const { token: rootToken } = await client.call('Auth', 'Authenticate', { name: 'root', password: 'rootpw' });
    const role = await client.call('Auth', 'RoleGet', { role: 'late-role' }, { metadata: { token: rootToken } });
    assert.equal(role.perm.length, 1);
    assert.equal(Buffer.from(role.perm[0].key).toString(), '/late/');
    assert.match(restarted.output(), /"msg":"(installed snapshot|snapshot received)"/, `no snapshot was installed\n${tail(restarted)}`);
    await rejects(client.call('Auth', 'UserList', {}), 3, 'etcdserver: user name is empty');
  });
});
