import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { authorize, AUTH_POLICY, credentialsOf, GATEWAY_CALL_METADATA, needOf, type Credentials } from '../../src/api/auth-policy';
import type { Wire } from '../../src/api/codec/wire-scalars';
import type { MemberPort, RequestContext } from '../../src/api/member-port';
import { serviceDefinition } from '../../src/api/method-codec';
import { EtcdError, GrpcCode } from '../../src/errors';
import { FakeMember } from '../api/fake-member';
import { FakeCall, FakeGate } from './policy-fakes';

const b = (s: string): Buffer => Buffer.from(s);
const ctx = (): RequestContext => ({ signal: new AbortController().signal, requireLeader: false });

/** A member whose leases carry the given keys (lease id → keys). */
function memberWithLeases(leases: Record<string, string[]>): { member: MemberPort; lookups: bigint[] } {
  const fake = new FakeMember();
  const lookups: bigint[] = [];
  const member: MemberPort = {
    kv: fake.kv,
    watch: fake.watch,
    cluster: fake.cluster,
    maintenance: fake.maintenance,
    limits: fake.limits,
    lease: {
      ...fake.lease,
      timeToLive: async (id, keys) => {
        lookups.push(id);
        const attached = leases[id.toString()];
        const result = attached === undefined
          ? { id, ttlSeconds: -1n, grantedTtlSeconds: 0n, keys: [] }
          : { id, ttlSeconds: 10n, grantedTtlSeconds: 10n, keys: keys ? attached.map(b) : [] };
        return { header: fake.header, result };
      },
    },
  };
  return { member, lookups };
}

async function run(gate: FakeGate, method: string, request: Wire, credentials: Credentials, member?: MemberPort): Promise<unknown> {
  return authorize(gate, member ?? memberWithLeases({}).member, method, request, credentials, ctx);
}

async function refused(promise: Promise<unknown>, code: number, message: string): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof EtcdError, `expected EtcdError, got ${String(err)}`);
    assert.equal(err.code, code);
    assert.equal(err.message, message);
    return true;
  });
}

const denied = (p: Promise<unknown>): Promise<void> => refused(p, GrpcCode.PERMISSION_DENIED, 'etcdserver: permission denied');
const userEmpty = (p: Promise<unknown>): Promise<void> => refused(p, GrpcCode.INVALID_ARGUMENT, 'etcdserver: user name is empty');
const badToken = (p: Promise<unknown>): Promise<void> => refused(p, GrpcCode.UNAUTHENTICATED, 'etcdserver: invalid auth token');

const reader: Credentials = { token: 'tok-reader' };
const writer: Credentials = { token: 'tok-writer' };
const root: Credentials = { token: 'tok-root' };

describe('the policy table', () => {
  test('names every etcd 3.4 method of every checked service', () => {
    const services: Record<string, string> = {
      'etcdserverpb.KV': 'KV',
      'etcdserverpb.Watch': 'Watch',
      'etcdserverpb.Lease': 'Lease',
      'etcdserverpb.Cluster': 'Cluster',
      'etcdserverpb.Maintenance': 'Maintenance',
      'etcdserverpb.Auth': 'Auth',
      'v3lockpb.Lock': 'Lock',
      'v3electionpb.Election': 'Election',
    };
    const later = new Set(['Maintenance/Downgrade', 'Auth/AuthStatus']);
    const expected: string[] = [];
    for (const [full, short] of Object.entries(services)) {
      for (const method of Object.keys(serviceDefinition(full, { maxReceiveBytes: 1 << 21 }))) {
        if (!later.has(`${short}/${method}`)) expected.push(`${short}/${method}`);
      }
    }
    assert.deepEqual(Object.keys(AUTH_POLICY).sort(), expected.sort());
    assert.throws(() => needOf('KV/Nope'), /no auth policy/);
  });

  test('has the etcd 3.4 kind for each method', () => {
    const kinds = Object.fromEntries(Object.entries(AUTH_POLICY).map(([m, need]) => [m, need.kind]));
    for (const m of ['KV/Range', 'KV/Put', 'KV/DeleteRange', 'KV/Txn', 'Lease/LeaseRevoke']) assert.equal(kinds[m], 'keys', m);
    for (const m of ['KV/Compact', 'Lease/LeaseGrant', 'Maintenance/Alarm']) assert.equal(kinds[m], 'valid-credentials', m);
    for (const m of ['Lease/LeaseTimeToLive', 'Lease/LeaseLeases', 'Lease/LeaseKeepAlive', 'Cluster/MemberList', 'Maintenance/Status', 'Maintenance/MoveLeader', 'Auth/Authenticate', 'Watch/Watch']) {
      assert.equal(kinds[m], 'nothing', m);
    }
    for (const m of ['Maintenance/Hash', 'Maintenance/HashKV', 'Maintenance/Snapshot', 'Maintenance/Defragment']) assert.equal(kinds[m], 'maintenance-admin', m);
    for (const m of ['Cluster/MemberAdd', 'Cluster/MemberRemove', 'Cluster/MemberUpdate', 'Cluster/MemberPromote']) assert.equal(kinds[m], 'admin', m);
    for (const m of Object.keys(kinds).filter((k) => k.startsWith('Auth/') && k !== 'Auth/Authenticate')) assert.equal(kinds[m], 'user', m);
    for (const m of Object.keys(kinds).filter((k) => k.startsWith('Lock/') || k.startsWith('Election/'))) assert.equal(kinds[m], 'embedded', m);
  });
});

describe('auth off', () => {
  test('no token: nothing is resolved or checked; checked methods get identity null', async () => {
    const gate = new FakeGate();
    gate.on = false;
    for (const method of Object.keys(AUTH_POLICY)) {
      const identity = await run(gate, method, { key: b('/x') }, {});
      assert.equal(identity, AUTH_POLICY[method]!.kind === 'nothing' ? undefined : null, method);
    }
    assert.deepEqual(gate.calls, []);
  });

  test('a bogus token is refused (UNAUTHENTICATED) by every method that reads credentials', async () => {
    const gate = new FakeGate();
    gate.on = false;
    for (const method of Object.keys(AUTH_POLICY)) {
      const need = AUTH_POLICY[method]!;
      const result = run(gate, method, { key: b('/x') }, { token: 'bogus' });
      if (need.kind === 'nothing') assert.equal(await result, undefined, method);
      else if (need.kind === 'embedded') await refused(result, GrpcCode.UNKNOWN, 'etcdserver: invalid auth token');
      else if (need.kind === 'maintenance-admin') await refused(result, GrpcCode.UNKNOWN, 'auth: invalid auth token');
      else await badToken(result);
    }
  });
});

describe('auth on, credentials', () => {
  test('no credentials: user name is empty for checked methods, fine for unchecked ones', async () => {
    const gate = new FakeGate();
    await userEmpty(run(gate, 'KV/Range', { key: b('/app/x') }, {}));
    await userEmpty(run(gate, 'KV/Put', { key: b('/app/x') }, {}));
    await refused(run(gate, 'Maintenance/Defragment', {}, {}), GrpcCode.UNKNOWN, 'auth: user name is empty');
    await userEmpty(run(gate, 'Cluster/MemberAdd', {}, {}));
    await userEmpty(run(gate, 'Auth/UserList', {}, {}));
    assert.equal(await run(gate, 'Lease/LeaseGrant', { TTL: 5 }, {}), null);
    assert.equal(await run(gate, 'KV/Compact', { revision: 1 }, {}), null);
    assert.equal(await run(gate, 'Maintenance/Alarm', {}, {}), null);
    assert.equal(await run(gate, 'Lock/Lock', { name: b('l') }, {}), null);
    assert.equal(await run(gate, 'Maintenance/Status', {}, {}), undefined);
    assert.equal(await run(gate, 'Cluster/MemberList', {}, { token: 'bogus' }), undefined);
    assert.equal(await run(gate, 'Auth/Authenticate', {}, { token: 'bogus' }), undefined);
  });

  test('request validation comes before the auth check, as in etcd', async () => {
    const gate = new FakeGate();
    await refused(run(gate, 'KV/Range', {}, {}), GrpcCode.INVALID_ARGUMENT, 'etcdserver: key is not provided');
    await refused(run(gate, 'KV/Put', {}, reader), GrpcCode.INVALID_ARGUMENT, 'etcdserver: key is not provided');
  });

  test('the certificate CN is the user when no token is sent; a token wins', async () => {
    const gate = new FakeGate();
    const identity = await run(gate, 'KV/Range', { key: b('/app/x') }, { certCommonName: 'reader' });
    assert.deepEqual(identity, { user: 'reader', authRevision: 1n });
    const byToken = await run(gate, 'KV/Range', { key: b('/app/x') }, { token: 'tok-writer', certCommonName: 'reader' });
    assert.equal((byToken as { user: string }).user, 'writer');
  });

  test('the certificate is not looked at while auth is off and no token is sent', async () => {
    const gate = new FakeGate();
    gate.on = false;
    let reads = 0;
    const call = new FakeCall({}, 'alice');
    call.getAuthContext = () => {
      reads++;
      return {};
    };
    for (const method of Object.keys(AUTH_POLICY)) await run(gate, method, { key: b('/x') }, credentialsOf(call));
    assert.equal(reads, 0);
    gate.on = true;
    assert.equal(await run(gate, 'Lease/LeaseGrant', {}, credentialsOf(call)), null);
    assert.equal(reads, 1);
  });

  test('credentials come from `token`, else `authorization` metadata, else the CN (not on gateway calls)', () => {
    const plain = (c: Credentials): Credentials => ({ token: c.token, certCommonName: c.certCommonName });
    assert.deepEqual(plain(credentialsOf(new FakeCall({ token: 't1', authorization: 't2' }))), { token: 't1', certCommonName: undefined });
    assert.deepEqual(plain(credentialsOf(new FakeCall({ authorization: 't2' }))), { token: 't2', certCommonName: undefined });
    assert.deepEqual(plain(credentialsOf(new FakeCall({}, 'alice'))), { token: undefined, certCommonName: 'alice' });
    assert.deepEqual(plain(credentialsOf(new FakeCall({ token: '' }, 'alice'))), { token: undefined, certCommonName: 'alice' });
    assert.deepEqual(plain(credentialsOf(new FakeCall({ [GATEWAY_CALL_METADATA]: '*/*' }, 'alice'))), { token: undefined, certCommonName: undefined });
  });
});

describe('auth on, key rules', () => {
  test('Range: READ on [key, range_end)', async () => {
    const gate = new FakeGate();
    assert.deepEqual(await run(gate, 'KV/Range', { key: b('/app/x') }, reader), { user: 'reader', authRevision: 1n });
    await run(gate, 'KV/Range', { key: b('/app/'), range_end: b('/app0') }, reader);
    await denied(run(gate, 'KV/Range', { key: b('/other') }, reader));
    assert.deepEqual(gate.checks(), ['read reader "/app/x" ""', 'read reader "/app/" "/app0"', 'read reader "/other" ""']);
  });

  test('Put: WRITE on the key, WRITE on every key of its lease, READ when prev_kv', async () => {
    const gate = new FakeGate();
    const { member, lookups } = memberWithLeases({ '7': ['/app/a', '/app/b'] });
    await run(gate, 'KV/Put', { key: b('/app/x'), lease: 7, prev_kv: true }, writer, member);
    assert.deepEqual(gate.checks(), ['write writer "/app/x" ""', 'write writer "/app/a" ""', 'write writer "/app/b" ""', 'read writer "/app/x" ""']);
    assert.deepEqual(lookups, [7n]);
    await denied(run(gate, 'KV/Put', { key: b('/app/x') }, reader, member));
    // A lease that carries a key the writer may not write cannot be attached to more keys.
    const other = memberWithLeases({ '9': ['/other/k'] });
    await denied(run(gate, 'KV/Put', { key: b('/app/x'), lease: 9 }, writer, other.member));
  });

  test('Put without a lease looks nothing up; an unknown lease has no keys', async () => {
    const gate = new FakeGate();
    const { member, lookups } = memberWithLeases({});
    await run(gate, 'KV/Put', { key: b('/app/x') }, writer, member);
    await run(gate, 'KV/Put', { key: b('/app/x'), lease: 5 }, writer, member);
    assert.deepEqual(lookups, [5n]);
    assert.deepEqual(gate.checks(), ['write writer "/app/x" ""', 'write writer "/app/x" ""']);
  });

  test('DeleteRange: WRITE on the range, READ when prev_kv', async () => {
    const gate = new FakeGate();
    await run(gate, 'KV/DeleteRange', { key: b('/app/'), range_end: b('/app0'), prev_kv: true }, writer);
    assert.deepEqual(gate.checks(), ['write writer "/app/" "/app0"', 'read writer "/app/" "/app0"']);
    await denied(run(gate, 'KV/DeleteRange', { key: b('/app/x') }, reader));
  });

  test('Txn: READ on compares, every op of both branches, nested txns included', async () => {
    const gate = new FakeGate();
    const { member } = memberWithLeases({ '3': ['/app/leased'] });
    const txn = {
      compare: [{ key: b('/app/c'), range_end: b('/app/d') }],
      success: [
        { request_range: { key: b('/app/r') } },
        { request_put: { key: b('/app/p'), lease: 3 } },
      ],
      failure: [
        { request_delete_range: { key: b('/app/d'), prev_kv: true } },
        { request_txn: { compare: [{ key: b('/app/nc') }], success: [{ request_put: { key: b('/app/np'), prev_kv: true } }] } },
      ],
    };
    await run(gate, 'KV/Txn', txn, writer, member);
    assert.deepEqual(gate.checks(), [
      'read writer "/app/c" "/app/d"',
      'read writer "/app/r" ""',
      'write writer "/app/p" ""',
      'write writer "/app/leased" ""',
      'write writer "/app/d" ""',
      'read writer "/app/d" ""',
      'read writer "/app/nc" ""',
      'write writer "/app/np" ""',
      'read writer "/app/np" ""',
    ]);
  });

  test('Txn is refused when any compare or op of either branch is not allowed', async () => {
    const gate = new FakeGate();
    await denied(run(gate, 'KV/Txn', { compare: [{ key: b('/other') }] }, writer));
    await denied(run(gate, 'KV/Txn', { failure: [{ request_range: { key: b('/other') } }] }, writer));
    await denied(run(gate, 'KV/Txn', { success: [{ request_txn: { success: [{ request_put: { key: b('/other') } }] } }] }, writer));
    await denied(run(gate, 'KV/Txn', { success: [{ request_put: { key: b('/app/x') } }] }, reader));
    await run(gate, 'KV/Txn', { success: [{ request_range: { key: b('/app/x') } }] }, reader);
  });

  test('LeaseRevoke: WRITE on every attached key; nothing to check for an unknown lease', async () => {
    const gate = new FakeGate();
    const { member } = memberWithLeases({ '11': ['/app/w1', '/app/w2'] });
    await run(gate, 'Lease/LeaseRevoke', { ID: 11 }, writer, member);
    assert.deepEqual(gate.checks(), ['write writer "/app/w1" ""', 'write writer "/app/w2" ""']);
    await denied(run(gate, 'Lease/LeaseRevoke', { ID: 11 }, reader, member));
    await run(gate, 'Lease/LeaseRevoke', { ID: 12 }, reader, member);
  });

  test('admin methods need the root role', async () => {
    const gate = new FakeGate();
    for (const method of ['Cluster/MemberAdd', 'Cluster/MemberRemove', 'Cluster/MemberUpdate', 'Cluster/MemberPromote']) {
      await denied(run(gate, method, {}, writer));
      assert.deepEqual(await run(gate, method, {}, root), { user: 'root', authRevision: 1n });
    }
  });

  test('maintenance admin methods answer as etcd\'s maintenance server: UNKNOWN "auth: …"', async () => {
    const gate = new FakeGate();
    for (const method of ['Maintenance/Hash', 'Maintenance/HashKV', 'Maintenance/Snapshot', 'Maintenance/Defragment']) {
      await refused(run(gate, method, {}, writer), GrpcCode.UNKNOWN, 'auth: permission denied');
      assert.deepEqual(await run(gate, method, {}, root), { user: 'root', authRevision: 1n });
    }
  });

  test('Auth methods resolve the identity and leave the decision to the Auth service', async () => {
    const gate = new FakeGate();
    assert.deepEqual(await run(gate, 'Auth/UserGet', { name: 'reader' }, reader), { user: 'reader', authRevision: 1n });
    assert.deepEqual(gate.checks(), []);
    await badToken(run(gate, 'Auth/RoleList', {}, { token: 'bogus' }));
  });

  test('Lock/Election resolve presented credentials only; failures are UNKNOWN as etcd\'s embedded client answers', async () => {
    const gate = new FakeGate();
    assert.deepEqual(await run(gate, 'Election/Campaign', { name: b('/app/e') }, reader), { user: 'reader', authRevision: 1n });
    await refused(run(gate, 'Lock/Unlock', { key: b('/app/l/1') }, { token: 'expired' }), GrpcCode.UNKNOWN, 'etcdserver: invalid auth token');
    assert.deepEqual(gate.checks(), []);
  });
});
