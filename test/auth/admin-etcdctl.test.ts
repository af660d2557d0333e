import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { etcdctl } from '../support/etcdctl';
import { startEtcd, startLatchkey, stopAll, type ServerProcess } from '../support/processes';
import { findBinary, skipUnlessBinaries } from '../support/skip';

/** One etcdctl invocation of the admin script. */
interface Step {
  args: string[];
  input?: string;
}

/** What a user sees from one step: exit code, stdout, and etcdctl's final "Error: ..." line. */
interface Seen {
  args: string;
  code: number | null;
  stdout: string;
  error: string;
}

const ROOT = ['--user', 'root:rootpw'];

/**
 * The admin flow a user runs with etcdctl: users, roles, a prefix permission, the listings,
 * every error the tools print, `auth enable` (with etcdctl's own fix-up: root has no role
 * root yet), admin work as root, self-service as a user, password change, disable.
 */
const SCRIPT: Step[] = [
  { args: ['user', 'add', 'root', '--new-user-password=rootpw'] },
  { args: ['user', 'add', 'root', '--new-user-password=again'] },
  { args: ['role', 'add', 'r1'] },
  { args: ['role', 'add', 'r1'] },
  { args: ['role', 'grant-permission', '--prefix=true', 'r1', 'read', '/app/'] },
  { args: ['role', 'grant-permission', 'r1', 'readwrite', '/single'] },
  { args: ['role', 'grant-permission', 'r1', 'write', '/from', '--from-key'] },
  { args: ['role', 'grant-permission', 'r1', 'write', '/a', '/b'] },
  { args: ['role', 'grant-permission', '--prefix=true', 'r1', 'readwrite', '/app/'] },
  { args: ['role', 'grant-permission', 'nope', 'read', '/x'] },
  { args: ['role', 'add', 'r0'] },
  { args: ['user', 'add', 'alice', '--new-user-password=alicepw'] },
  { args: ['user', 'add', 'bob', '--new-user-password=bobpw'] },
  { args: ['user', 'grant-role', 'alice', 'r1'] },
  { args: ['user', 'grant-role', 'alice', 'r0'] },
  { args: ['user', 'grant-role', 'alice', 'nope'] },
  { args: ['user', 'grant-role', 'ghost', 'r1'] },
  { args: ['user', 'get', 'alice'] },
  { args: ['user', 'get', 'ghost'] },
  { args: ['role', 'get', 'r1'] },
  { args: ['role', 'get', 'nope'] },
  { args: ['user', 'list'] },
  { args: ['role', 'list'] },
  { args: ['user', 'revoke-role', 'alice', 'r2'] },
  { args: ['user', 'revoke-role', 'alice', 'r0'] },
  { args: ['role', 'revoke-permission', 'r1', '/nothing'] },
  { args: ['role', 'revoke-permission', 'r1', '/single'] },
  { args: ['role', 'revoke-permission', 'r1', '/a', '/b'] },
  { args: ['role', 'get', 'r1'] },
  { args: ['--user', 'root:rootpw', 'user', 'list'] },
  { args: ['auth', 'enable'] },
  { args: ['role', 'list'] },
  { args: [...ROOT, 'role', 'list'] },
  { args: [...ROOT, 'user', 'get', 'root'] },
  { args: [...ROOT, 'role', 'get', 'root'] },
  { args: ['--user', 'root:wrong', 'user', 'list'] },
  { args: ['--user', 'ghost:pw', 'user', 'list'] },
  { args: ['--user', 'alice:alicepw', 'user', 'get', 'alice'] },
  { args: ['--user', 'alice:alicepw', 'role', 'get', 'r1'] },
  { args: ['--user', 'alice:alicepw', 'role', 'get', 'r0'] },
  { args: ['--user', 'alice:alicepw', 'user', 'get', 'bob'] },
  { args: ['--user', 'alice:alicepw', 'user', 'list'] },
  { args: ['--user', 'alice:alicepw', 'role', 'add', 'r9'] },
  { args: [...ROOT, 'user', 'passwd', 'alice', '--interactive=false'], input: 'alice2\n' },
  { args: ['--user', 'alice:alicepw', 'user', 'get', 'alice'] },
  { args: ['--user', 'alice:alice2', 'user', 'get', 'alice'] },
  { args: [...ROOT, 'user', 'delete', 'root'] },
  { args: [...ROOT, 'user', 'revoke-role', 'root', 'root'] },
  { args: [...ROOT, 'role', 'delete', 'root'] },
  { args: [...ROOT, 'auth', 'enable'] },
  { args: [...ROOT, 'role', 'delete', 'r1'] },
  { args: [...ROOT, 'user', 'get', 'alice'] },
  { args: [...ROOT, 'user', 'delete', 'bob'] },
  { args: [...ROOT, 'user', 'list'] },
  { args: [...ROOT, 'auth', 'disable'] },
  { args: ['user', 'list'] },
  { args: ['auth', 'disable'] },
  { args: ['--user', 'root:rootpw', 'user', 'list'] },
  { args: ['user', 'add', 'cn-only', '--no-password'] },
  { args: ['user', 'add', 'root2', '--new-user-password=pw'] },
  { args: ['user', 'grant-role', 'root', 'root'] },
  { args: ['role', 'delete', 'root'] },
  { args: ['user', 'grant-role', 'root', 'root'] },
  { args: ['role', 'get', 'root'] },
  { args: ['user', 'get', 'root'] },
  { args: ['auth', 'enable'] },
  { args: [...ROOT, 'user', 'get', 'cn-only'] },
  { args: ['--user', 'cn-only:pw', 'user', 'get', 'cn-only'] },
  { args: [...ROOT, 'user', 'grant-role', 'cn-only', 'r0'] },
  { args: [...ROOT, 'user', 'grant-role', 'cn-only', 'r0'] },
  { args: [...ROOT, 'role', 'grant-permission', 'r0', 'read', 'a'] },
  { args: [...ROOT, 'role', 'grant-permission', 'r0', 'write', 'a', 'b'] },
  { args: [...ROOT, 'role', 'grant-permission', 'r0', 'readwrite', 'a'] },
  { args: [...ROOT, 'role', 'get', 'r0'] },
  { args: [...ROOT, 'auth', 'disable'] },
  { args: ['user', 'add', '', '--new-user-password=x'] },
  { args: ['role', 'add', ''] },
  { args: ['user', 'delete', 'root'] },
];

/** etcdctl's last "Error: ..." line (retry warnings before it carry timestamps). */
function errorLine(stderr: string): string {
  const lines = stderr.split('\n').filter((line) => line.startsWith('Error:'));
  return lines[lines.length - 1] ?? '';
}

async function runScript(server: ServerProcess): Promise<Seen[]> {
  const seen: Seen[] = [];
  for (const step of SCRIPT) {
    const result = await etcdctl(server.endpoint, step.args, { input: step.input });
    seen.push({ args: step.args.join(' '), code: result.code, stdout: result.stdout, error: errorLine(result.stderr) });
  }
  return seen;
}

/** A failed step's output, readable in an assertion message. */
function show(s: Seen): string {
  return `$ etcdctl ${s.args}\n  exit ${s.code}\n  stdout ${JSON.stringify(s.stdout)}\n  ${s.error}`;
}

const FAST_BCRYPT = ['--bcrypt-cost', '4'];

describe('etcdctl user/role/auth against latchkey', { skip: skipUnlessBinaries('etcdctl') }, () => {
  after(stopAll);
  let latchkeySeen: Seen[] | undefined;

  test('the admin script gives etcd\'s answers', async () => {
    const server = await startLatchkey({ extraArgs: FAST_BCRYPT });
    const seen = await runScript(server);
    latchkeySeen = seen;
    if (process.env.SHOW_AUTH_SCRIPT === '1') for (const s of seen) process.stderr.write(show(s) + '\n');
    const at = (args: string): Seen => {
      const found = seen.find((s) => s.args === args);
      assert.ok(found, `step ${args} ran`);
      return found;
    };
    assert.equal(at('user add root --new-user-password=rootpw').stdout, 'User root created\n');
    assert.equal(at('user add root --new-user-password=again').error, 'Error: etcdserver: user name already exists');
    assert.equal(at('role grant-permission nope read /x').error, 'Error: etcdserver: role name not found');
    assert.equal(at('user grant-role alice nope').error, 'Error: etcdserver: role name not found');
    assert.equal(at('user get ghost').error, 'Error: etcdserver: user name not found');
    assert.equal(at('user revoke-role alice r2').error, 'Error: etcdserver: role is not granted to the user');
    assert.equal(at('role revoke-permission r1 /nothing').error, 'Error: etcdserver: permission is not granted to the role');
    assert.equal(at('user list').stdout, 'alice\nbob\nroot\n');
    assert.equal(at('role list').stdout, 'r0\nr1\n');
    assert.equal(at('auth enable').stdout, 'Authentication Enabled\n');
    assert.equal(at('--user root:rootpw role list').stdout, 'r0\nr1\nroot\n');
    assert.equal(at('--user root:wrong user list').error, 'Error: etcdserver: authentication failed, invalid user ID or password');
    assert.equal(at('--user alice:alicepw user list').error, 'Error: etcdserver: permission denied');
    assert.equal(at('--user alice:alicepw user get alice').stdout, 'User: alice\nRoles: r1\n');
    assert.equal(at('--user alice:alice2 user get alice').stdout, 'User: alice\nRoles: r1\n');
    assert.equal(at('--user root:rootpw user delete root').error, 'Error: etcdserver: invalid auth management');
    assert.equal(at('--user root:rootpw auth disable').stdout, 'Authentication Disabled\n');
    assert.equal(at('user add  --new-user-password=x').error, 'Error: etcdserver: user name is empty');
    assert.match(at('--user cn-only:pw user get cn-only').error, /password was given for no password user/);
    await server.stop();
  });

  test('line for line the same as etcd 3.4', { skip: findBinary('etcd') === undefined ? 'etcd is not installed' : false }, async () => {
    assert.ok(latchkeySeen, 'the latchkey run happened first');
    const etcd = await startEtcd({ extraArgs: FAST_BCRYPT });
    const etcdSeen = await runScript(etcd);
    await etcd.stop();
    const differences = etcdSeen.flatMap((e, i) => {
      const l = latchkeySeen![i]!;
      return e.code === l.code && e.stdout === l.stdout && e.error === l.error ? [] : [`etcd:\n${show(e)}\nlatchkey:\n${show(l)}`];
    });
    assert.deepEqual(differences, []);
  });
});
