import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { EtcdError, GrpcCode } from '../../src/errors';
import { silentLogger } from '../../src/log';
import type { AuthActor, AuthRequest } from '../../src/auth/auth-requests';
import { AUTH_META, AuthStore, type AuthStateSource } from '../../src/auth/auth-store';
import { PermType } from '../../src/auth/permissions';
import { MvccStore } from '../../src/storage/mvcc';

/** An in-memory meta table standing in for LMDB. */
class MemoryData implements AuthStateSource {
  readonly meta = new Map<string, Buffer>();
  index = 0n;
  getMeta(name: string): Buffer | undefined {
    return this.meta.get(name);
  }
  consistentIndex(): bigint {
    return this.index;
  }
  putMeta(name: string, value: Buffer): void {
    this.meta.set(name, value);
  }
}

const ANON: AuthActor = { user: '', authRevision: 0n };
const ROOT: AuthActor = { user: 'root', authRevision: 1n };
const b = (s: string): Buffer => Buffer.from(s);

function fixture(nowMs?: () => number): { data: MemoryData; auth: AuthStore; apply: (r: AuthRequest, actor?: AuthActor) => string | null } {
  const data = new MemoryData();
  const auth = new AuthStore(data, { tokenTtlSeconds: 300, logger: silentLogger(), nowMs });
  let index = 0n;
  return {
    data,
    auth,
    apply: (r, actor = ANON) => {
      index += 1n;
      const token = auth.apply(r, actor, index, data);
      data.index = index;
      auth.noteApplied();
      return token;
    },
  };
}

function etcdError(message: string, code?: number): (err: unknown) => boolean {
  return (err: unknown) => {
    assert.ok(err instanceof EtcdError, `expected EtcdError, got ${String(err)}`);
    assert.equal(err.message, message);
    if (code !== undefined) assert.equal(err.code, code);
    return true;
  };
}

function setupRoot(apply: (r: AuthRequest, actor?: AuthActor) => string | null): void {
  apply({ op: 'userAdd', name: 'root', passwordHash: 'h', noPassword: false });
  apply({ op: 'roleAdd', name: 'root' });
  apply({ op: 'userGrantRole', user: 'root', role: 'root' });
}

describe('auth store: users and roles with etcd errors', () => {
  test('UserAdd: empty name, duplicate', () => {
    const { auth, apply } = fixture();
    assert.throws(() => apply({ op: 'userAdd', name: '', passwordHash: 'h', noPassword: false }), etcdError('etcdserver: user name is empty', GrpcCode.INVALID_ARGUMENT));
    apply({ op: 'userAdd', name: 'u1', passwordHash: 'h', noPassword: false });
    assert.throws(() => apply({ op: 'userAdd', name: 'u1', passwordHash: 'h', noPassword: false }), etcdError('etcdserver: user name already exists', GrpcCode.FAILED_PRECONDITION));
    assert.deepEqual(auth.current().userNames(), ['u1']);
  });

  test('RoleAdd: empty, duplicate; lists are sorted', () => {
    const { auth, apply } = fixture();
    assert.throws(() => apply({ op: 'roleAdd', name: '' }), etcdError('etcdserver: role name is empty', GrpcCode.INVALID_ARGUMENT));
    for (const name of ['zeta', 'alpha', 'mid']) apply({ op: 'roleAdd', name });
    assert.throws(() => apply({ op: 'roleAdd', name: 'mid' }), etcdError('etcdserver: role name already exists'));
    for (const name of ['u3', 'u1', 'u2']) apply({ op: 'userAdd', name, passwordHash: 'h', noPassword: false });
    assert.deepEqual(auth.current().roleNames(), ['alpha', 'mid', 'zeta']);
    assert.deepEqual(auth.current().userNames(), ['u1', 'u2', 'u3']);
  });

  test('grant and revoke roles: missing user, missing role, not granted; roles sorted; regrant is a no-op', () => {
    const { auth, apply } = fixture();
    apply({ op: 'userAdd', name: 'u', passwordHash: 'h', noPassword: false });
    for (const name of ['r2', 'r1']) apply({ op: 'roleAdd', name });
    assert.throws(() => apply({ op: 'userGrantRole', user: 'nobody', role: 'r1' }), etcdError('etcdserver: user name not found'));
    assert.throws(() => apply({ op: 'userGrantRole', user: 'u', role: 'nope' }), etcdError('etcdserver: role name not found', GrpcCode.FAILED_PRECONDITION));
    apply({ op: 'userGrantRole', user: 'u', role: 'r2' });
    apply({ op: 'userGrantRole', user: 'u', role: 'r1' });
    const revision = auth.revision();
    apply({ op: 'userGrantRole', user: 'u', role: 'r1' });
    assert.equal(auth.revision(), revision, 'granting a held role changes nothing');
    assert.deepEqual(auth.current().user('u')?.roles, ['r1', 'r2']);
    assert.throws(() => apply({ op: 'userRevokeRole', name: 'u', role: 'r3' }), etcdError('etcdserver: role is not granted to the user'));
    assert.throws(() => apply({ op: 'userRevokeRole', name: 'x', role: 'r1' }), etcdError('etcdserver: user name not found'));
    apply({ op: 'userRevokeRole', name: 'u', role: 'r2' });
    assert.deepEqual(auth.current().user('u')?.roles, ['r1']);
  });

  test('role "root" may be granted before it exists (etcd allows it)', () => {
    const { auth, apply } = fixture();
    apply({ op: 'userAdd', name: 'root', passwordHash: 'h', noPassword: false });
    apply({ op: 'userGrantRole', user: 'root', role: 'root' });
    assert.equal(auth.isRoot('root'), true);
  });

  test('permissions: grant merges an identical range, list sorted by key, revoke needs an exact match', () => {
    const { auth, apply } = fixture();
    apply({ op: 'roleAdd', name: 'r' });
    assert.throws(
      () => apply({ op: 'roleGrantPermission', name: 'nope', perm: { permType: PermType.READ, key: b('a'), rangeEnd: b('') } }),
      etcdError('etcdserver: role name not found'),
    );
    apply({ op: 'roleGrantPermission', name: 'r', perm: { permType: PermType.READ, key: b('/b/'), rangeEnd: b('/b0') } });
    apply({ op: 'roleGrantPermission', name: 'r', perm: { permType: PermType.WRITE, key: b('/a'), rangeEnd: b('') } });
    apply({ op: 'roleGrantPermission', name: 'r', perm: { permType: PermType.READWRITE, key: b('/b/'), rangeEnd: b('/b0') } });
    const perms = auth.current().role('r')!.permissions;
    assert.deepEqual(
      perms.map((p) => [p.permType, p.key.toString(), p.rangeEnd.toString()]),
      [[PermType.WRITE, '/a', ''], [PermType.READWRITE, '/b/', '/b0']],
    );
    assert.throws(() => apply({ op: 'roleRevokePermission', role: 'r', key: b('/b/'), rangeEnd: b('') }), etcdError('etcdserver: permission is not granted to the role'));
    assert.throws(() => apply({ op: 'roleRevokePermission', role: 'x', key: b('/a'), rangeEnd: b('') }), etcdError('etcdserver: role name not found'));
    apply({ op: 'roleRevokePermission', role: 'r', key: b('/b/'), rangeEnd: b('/b0') });
    assert.equal(auth.current().role('r')!.permissions.length, 1);
  });

  test('deleting a role removes it from its users; deleting a user; missing ones', () => {
    const { auth, apply } = fixture();
    apply({ op: 'userAdd', name: 'u', passwordHash: 'h', noPassword: false });
    apply({ op: 'roleAdd', name: 'r' });
    apply({ op: 'userGrantRole', user: 'u', role: 'r' });
    apply({ op: 'roleDelete', role: 'r' });
    assert.deepEqual(auth.current().user('u')?.roles, []);
    assert.throws(() => apply({ op: 'roleDelete', role: 'r' }), etcdError('etcdserver: role name not found'));
    apply({ op: 'userDelete', name: 'u' });
    assert.throws(() => apply({ op: 'userDelete', name: 'u' }), etcdError('etcdserver: user name not found'));
    assert.throws(() => apply({ op: 'userChangePassword', name: 'u', passwordHash: 'x' }), etcdError('etcdserver: user name not found'));
  });

  test('every change bumps the auth revision; failures do not', () => {
    const { auth, apply } = fixture();
    const start = auth.revision();
    apply({ op: 'roleAdd', name: 'r' });
    assert.equal(auth.revision(), start + 1n);
    assert.throws(() => apply({ op: 'roleAdd', name: 'r' }));
    assert.equal(auth.revision(), start + 1n);
  });
});

describe('auth store: enable, disable, root protection', () => {
  test('AuthEnable needs user root, then role root on it; enabling creates nothing', () => {
    const { auth, apply } = fixture();
    assert.throws(() => apply({ op: 'authEnable' }), etcdError('etcdserver: root user does not exist', GrpcCode.FAILED_PRECONDITION));
    apply({ op: 'userAdd', name: 'root', passwordHash: 'h', noPassword: false });
    assert.throws(() => apply({ op: 'authEnable' }), etcdError('etcdserver: root user does not have root role', GrpcCode.FAILED_PRECONDITION));
    assert.deepEqual(auth.current().roleNames(), []);
    apply({ op: 'roleAdd', name: 'root' });
    apply({ op: 'userGrantRole', user: 'root', role: 'root' });
    apply({ op: 'authEnable' });
    assert.equal(auth.enabled(), true);
    assert.deepEqual(auth.current().userNames(), ['root']);
    assert.deepEqual(auth.current().roleNames(), ['root']);
  });

  test('while enabled: root cannot be deleted, role root cannot be revoked from root or deleted', () => {
    const { apply } = fixture();
    setupRoot(apply);
    apply({ op: 'authEnable' });
    const invalid = etcdError('etcdserver: invalid auth management', GrpcCode.INVALID_ARGUMENT);
    assert.throws(() => apply({ op: 'userDelete', name: 'root' }, ROOT), invalid);
    assert.throws(() => apply({ op: 'userRevokeRole', name: 'root', role: 'root' }, ROOT), invalid);
    assert.throws(() => apply({ op: 'roleDelete', role: 'root' }, ROOT), invalid);
  });

  test('while enabled, management needs root at apply: no user, unknown user, non-root', () => {
    const { apply } = fixture();
    setupRoot(apply);
    apply({ op: 'userAdd', name: 'alice', passwordHash: 'h', noPassword: false });
    apply({ op: 'authEnable' });
    assert.throws(() => apply({ op: 'roleAdd', name: 'x' }), etcdError('etcdserver: user name is empty'));
    assert.throws(() => apply({ op: 'roleAdd', name: 'x' }, { user: 'ghost', authRevision: 5n }), etcdError('etcdserver: user name not found'));
    assert.throws(() => apply({ op: 'roleAdd', name: 'x' }, { user: 'alice', authRevision: 5n }), etcdError('etcdserver: permission denied', GrpcCode.PERMISSION_DENIED));
    apply({ op: 'roleAdd', name: 'x' }, ROOT);
    apply({ op: 'authDisable' }, ROOT);
    apply({ op: 'userDelete', name: 'root' });
  });

  test('enable twice and disable twice are no-ops', () => {
    const { auth, apply } = fixture();
    setupRoot(apply);
    apply({ op: 'authEnable' });
    apply({ op: 'authEnable' }, ROOT);
    apply({ op: 'authDisable' }, ROOT);
    const revision = auth.revision();
    apply({ op: 'authDisable' });
    assert.equal(auth.enabled(), false);
    assert.equal(auth.revision(), revision);
  });
});

describe('auth store: tokens and the gate', () => {
  test('Authenticate: disabled, unknown user, no-password user; token format', () => {
    const { auth, apply } = fixture();
    assert.throws(() => apply({ op: 'authenticate', name: 'root', tokenPrefix: 'abc' }), etcdError('etcdserver: authentication is not enabled', GrpcCode.FAILED_PRECONDITION));
    setupRoot(apply);
    apply({ op: 'userAdd', name: 'cert-only', passwordHash: '', noPassword: true });
    apply({ op: 'authEnable' });
    const failed = etcdError('etcdserver: authentication failed, invalid user ID or password', GrpcCode.INVALID_ARGUMENT);
    assert.throws(() => apply({ op: 'authenticate', name: 'ghost', tokenPrefix: 'abc' }), failed);
    assert.throws(
      () => apply({ op: 'authenticate', name: 'cert-only', tokenPrefix: 'abc' }),
      etcdError('auth: authentication failed, password was given for no password user', GrpcCode.UNKNOWN),
    );
    const token = apply({ op: 'authenticate', name: 'root', tokenPrefix: 'bFTVxuTqbtTWgMwZ' });
    assert.match(token ?? '', /^bFTVxuTqbtTWgMwZ\.\d+$/);
    assert.deepEqual(auth.identify(token!, undefined), { user: 'root', authRevision: auth.revision() });
  });

  test('identify: bogus token even while disabled, no credentials while enabled, CN', () => {
    const { auth, apply } = fixture();
    assert.equal(auth.identify(undefined, undefined), null);
    assert.equal(auth.identify(undefined, 'alice'), null);
    assert.throws(() => auth.identify('bogus.1', undefined), etcdError('etcdserver: invalid auth token', GrpcCode.UNAUTHENTICATED));
    setupRoot(apply);
    apply({ op: 'authEnable' });
    assert.throws(() => auth.identify(undefined, undefined), etcdError('etcdserver: user name is empty', GrpcCode.INVALID_ARGUMENT));
    assert.deepEqual(auth.identify(undefined, 'alice'), { user: 'alice', authRevision: auth.revision() });
  });

  test('tokens expire after the TTL unless used, and die with password change, user delete and disable', () => {
    let now = 1_000_000;
    const { auth, apply } = fixture(() => now);
    setupRoot(apply);
    apply({ op: 'userAdd', name: 'u', passwordHash: 'h', noPassword: false });
    apply({ op: 'authEnable' });
    const t1 = apply({ op: 'authenticate', name: 'u', tokenPrefix: 'aaaaaaaaaaaaaaaa' })!;
    now += 299_000;
    assert.equal(auth.identify(t1, undefined)?.user, 'u', 'used before expiry: refreshed');
    now += 299_000;
    assert.equal(auth.identify(t1, undefined)?.user, 'u');
    now += 300_001;
    assert.throws(() => auth.identify(t1, undefined), etcdError('etcdserver: invalid auth token'));
    const t2 = apply({ op: 'authenticate', name: 'u', tokenPrefix: 'bbbbbbbbbbbbbbbb' })!;
    const rootToken = apply({ op: 'authenticate', name: 'root', tokenPrefix: 'cccccccccccccccc' })!;
    apply({ op: 'userChangePassword', name: 'u', passwordHash: 'h2' }, ROOT);
    assert.throws(() => auth.identify(t2, undefined), etcdError('etcdserver: invalid auth token'));
    assert.equal(auth.identify(rootToken, undefined)?.user, 'root');
    const t3 = apply({ op: 'authenticate', name: 'u', tokenPrefix: 'dddddddddddddddd' })!;
    apply({ op: 'userDelete', name: 'u' }, ROOT);
    assert.throws(() => auth.identify(t3, undefined), etcdError('etcdserver: invalid auth token'));
    apply({ op: 'authDisable' }, ROOT);
    assert.throws(() => auth.identify(rootToken, undefined), etcdError('etcdserver: invalid auth token'));
  });

  test('checkRead/checkWrite/checkAdmin follow the roles; root may do anything; old revisions refused', () => {
    const { auth, apply } = fixture();
    setupRoot(apply);
    apply({ op: 'userAdd', name: 'app', passwordHash: 'h', noPassword: false });
    apply({ op: 'roleAdd', name: 'r1' });
    apply({ op: 'roleGrantPermission', name: 'r1', perm: { permType: PermType.READ, key: b('/app/'), rangeEnd: b('/app0') } });
    apply({ op: 'userGrantRole', user: 'app', role: 'r1' });
    apply({ op: 'authEnable' });
    const app = { user: 'app', authRevision: auth.revision() };
    const root = { user: 'root', authRevision: auth.revision() };
    const denied = etcdError('etcdserver: permission denied', GrpcCode.PERMISSION_DENIED);
    auth.checkRead(app, b('/app/x'), b(''));
    auth.checkRead(app, b('/app/'), b('/app0'));
    assert.throws(() => auth.checkRead(app, b('/other'), b('')), denied);
    assert.throws(() => auth.checkWrite(app, b('/app/x'), b('')), denied);
    assert.throws(() => auth.checkAdmin(app), denied);
    auth.checkWrite(root, Buffer.from([0]), Buffer.from([0]));
    auth.checkAdmin(root);
    assert.throws(() => auth.checkRead({ user: 'ghost', authRevision: auth.revision() }, b('/app/x'), b('')), denied);
    // Granting more takes effect at once (the merged-permission cache is dropped).
    apply({ op: 'roleGrantPermission', name: 'r1', perm: { permType: PermType.WRITE, key: b('/app/'), rangeEnd: b('/app0') } }, root);
    const fresh = { user: 'app', authRevision: auth.revision() };
    auth.checkWrite(fresh, b('/app/x'), b(''));
    assert.throws(() => auth.checkWrite(app, b('/app/x'), b('')), etcdError('etcdserver: revision of auth store is old', GrpcCode.INVALID_ARGUMENT));
  });

  test('everything passes while auth is disabled', () => {
    const { auth } = fixture();
    auth.checkRead({ user: '', authRevision: 0n }, b('a'), b(''));
    auth.checkWrite({ user: 'x', authRevision: 0n }, b('a'), b(''));
    auth.checkAdmin({ user: '', authRevision: 0n });
  });
});

describe('auth store: persistence', () => {
  test('state is reloaded from meta when the data is replaced (snapshot install) and on reopen', () => {
    const { data, auth, apply } = fixture();
    setupRoot(apply);
    apply({ op: 'authEnable' });
    const copy = new MemoryData();
    for (const [k, v] of data.meta) copy.meta.set(k, v);
    copy.index = data.index;
    const reopened = new AuthStore(copy, { tokenTtlSeconds: 300, logger: silentLogger() });
    assert.equal(reopened.enabled(), true);
    assert.deepEqual(reopened.current().userNames(), ['root']);
    assert.equal(reopened.revision(), auth.revision());
    reopened.close();
    // A snapshot install: the data under the store changes and its index jumps.
    data.meta.delete(AUTH_META);
    data.index += 100n;
    assert.equal(auth.enabled(), false);
    assert.deepEqual(auth.current().userNames(), []);
    auth.close();
  });

  test('the state is written in the LMDB apply transaction and survives closing the database', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'latchkey-auth-'));
    try {
      let store = MvccStore.open(dir, { logger: silentLogger() });
      const auth = new AuthStore(store, { tokenTtlSeconds: 300, logger: silentLogger() });
      const requests: AuthRequest[] = [
        { op: 'userAdd', name: 'root', passwordHash: '$2b$04$hash', noPassword: false },
        { op: 'roleAdd', name: 'root' },
        { op: 'userGrantRole', user: 'root', role: 'root' },
        { op: 'roleAdd', name: 'r1' },
        { op: 'roleGrantPermission', name: 'r1', perm: { permType: PermType.READWRITE, key: b('/x/'), rangeEnd: b('/x0') } },
        { op: 'authEnable' },
      ];
      let index = 0n;
      for (const request of requests) {
        index += 1n;
        store.write((writer) => {
          auth.apply(request, ANON, index, writer);
          writer.setConsistentIndex(index);
        });
        auth.noteApplied();
      }
      const revision = auth.revision();
      auth.close();
      await store.close();
      store = MvccStore.open(dir, { logger: silentLogger() });
      const again = new AuthStore(store, { tokenTtlSeconds: 300, logger: silentLogger() });
      assert.equal(again.enabled(), true);
      assert.equal(again.revision(), revision);
      assert.equal(again.current().user('root')?.passwordHash, '$2b$04$hash');
      assert.deepEqual(
        again.current().role('r1')?.permissions.map((p) => [p.permType, p.key.toString(), p.rangeEnd.toString()]),
        [[PermType.READWRITE, '/x/', '/x0']],
      );
      again.close();
      await store.close();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('auth store: bounds', () => {
  test('live tokens are capped: the oldest is dropped past MAX_TOKENS', async () => {
    const { SimpleTokens, MAX_TOKENS } = await import('../../src/auth/simple-tokens');
    const tokens = new SimpleTokens(300_000, () => 0);
    for (let i = 0; i < MAX_TOKENS + 5; i++) tokens.assign(`t.${i}`, 'u');
    assert.equal(tokens.size, MAX_TOKENS);
    assert.equal(tokens.use('t.0'), undefined);
    assert.equal(tokens.use(`t.${MAX_TOKENS + 4}`), 'u');
  });

  test('password hashing and checking (bcrypt) round-trip, concurrently', async () => {
    const { hashPassword, passwordMatches } = await import('../../src/auth/passwords');
    const hashes = await Promise.all(['a', 'b', 'c', 'd'].map((p) => hashPassword(p, 4)));
    assert.deepEqual(await Promise.all(hashes.map((h, i) => passwordMatches('abcd'[i]!, h))), [true, true, true, true]);
    assert.equal(await passwordMatches('b', hashes[0]!), false);
    assert.equal(await passwordMatches('', ''), false, 'a user without a password never matches');
  });
});

describe('auth store: tokens issued on another member', () => {
  test('tokenApplied waits until the issuing entry is applied here, then the token is known', async () => {
    const { data, auth, apply } = fixture();
    setupRoot(apply);
    apply({ op: 'authEnable' });
    // This member has applied up to data.index; a token issued at a later index is pending.
    const pending = `abcdefghijklmnop.${data.index + 1n}`;
    let released = false;
    const wait = auth.tokenApplied(pending, 10_000).then(() => {
      released = true;
    });
    await Promise.resolve();
    assert.equal(released, false);
    assert.equal(apply({ op: 'authenticate', name: 'root', tokenPrefix: 'abcdefghijklmnop' }), pending);
    await wait;
    assert.equal(released, true);
    assert.equal(auth.identify(pending, undefined)?.user, 'root');
    // Not a simple token, or already applied: no wait.
    await auth.tokenApplied('bogus', 10_000);
    await auth.tokenApplied('abcdefghijklmnop.1', 10_000);
    auth.close();
  });

  test('tokenApplied gives up after its bound', async () => {
    const { auth } = fixture();
    const started = Date.now();
    await auth.tokenApplied('abcdefghijklmnop.999', 50);
    assert.ok(Date.now() - started >= 45);
    auth.close();
  });
});
