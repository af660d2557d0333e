import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { EtcdClient, RpcError } from '../support/etcd-client';
import { etcdctl, etcdctlOk } from '../support/etcdctl';
import { makeTempDir, startLatchkey, stopAll } from '../support/processes';
import { skipUnlessBinaries } from '../support/skip';

const FAST_BCRYPT = ['--bcrypt-cost', '4'];

describe('auth across a restart', { skip: skipUnlessBinaries('etcdctl') }, () => {
  after(stopAll);

  test('users, roles and the enabled flag survive a restart; tokens do not', { timeout: 60_000 }, async () => {
    const dataDir = makeTempDir('auth-restart');
    const first = await startLatchkey({ dataDir, extraArgs: FAST_BCRYPT });
    await etcdctlOk(first.endpoint, ['user', 'add', 'root', '--new-user-password=rootpw']);
    await etcdctlOk(first.endpoint, ['role', 'add', 'reader']);
    await etcdctlOk(first.endpoint, ['role', 'grant-permission', '--prefix=true', 'reader', 'read', '/app/']);
    await etcdctlOk(first.endpoint, ['user', 'add', 'alice', '--new-user-password=alicepw']);
    await etcdctlOk(first.endpoint, ['user', 'grant-role', 'alice', 'reader']);
    assert.equal(await etcdctlOk(first.endpoint, ['auth', 'enable']), 'Authentication Enabled\n');
    const client = new EtcdClient(first.endpoint);
    const { token } = await client.call('Auth', 'Authenticate', { name: 'root', password: 'rootpw' });
    client.close();
    await first.stop();

    // Ready once Status answers (a Range without a token would be refused: auth is on).
    const second = await startLatchkey({ dataDir, clientPort: first.clientPort, peerPort: first.peerPort, extraArgs: FAST_BCRYPT, readiness: 'status' });
    const root = ['--user', 'root:rootpw'];
    assert.equal(await etcdctlOk(second.endpoint, [...root, 'user', 'list']), 'alice\nroot\n');
    assert.equal(await etcdctlOk(second.endpoint, [...root, 'role', 'get', 'reader']), 'Role reader\nKV Read:\n\t[/app/, /app0) (prefix /app/)\nKV Write:\n');
    assert.equal(await etcdctlOk(second.endpoint, ['--user', 'alice:alicepw', 'user', 'get', 'alice']), 'User: alice\nRoles: reader\n');
    const anonymous = await etcdctl(second.endpoint, ['user', 'list']);
    assert.match(anonymous.stderr, /Error: etcdserver: user name is empty/);
    const again = new EtcdClient(second.endpoint);
    await assert.rejects(again.call('Auth', 'UserList', {}, { metadata: { token } }), (err: unknown) => {
      assert.ok(err instanceof RpcError);
      assert.equal(err.details, 'etcdserver: invalid auth token');
      return true;
    });
    again.close();
    await second.stop();
  });

  test('--auth-token jwt is refused at start with a clear message', { timeout: 30_000 }, async () => {
    const server = await startLatchkey({ extraArgs: ['--auth-token', 'jwt,pub-key=a.pub,priv-key=a.key,sign-method=RS256'], readiness: 'none' });
    const exit = await server.waitExit();
    assert.notEqual(exit.code, 0);
    assert.match(server.output(), /--auth-token: .*simple tokens only/);
  });
});
