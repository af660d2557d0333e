import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { failure, rawCall, startServer, unary, type Running } from './harness';

type Message = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const key = (k: string): Buffer => Buffer.from(k);
const putOp = (k: string): Message => ({ request_put: { key: key(k) } });

/** A PutRequest {key:"k", value: N bytes} encoded by hand, exactly `totalBytes` long. */
function putOfSize(totalBytes: number): Buffer {
  // 0a 01 6b | 12 <varint len> <value>; the varint of a length in [2^14, 2^21) takes 3 bytes.
  const valueLength = totalBytes - 3 - 1 - 3;
  const varint = [(valueLength & 0x7f) | 0x80, ((valueLength >> 7) & 0x7f) | 0x80, valueLength >> 14];
  const bytes = Buffer.concat([Buffer.from([0x0a, 0x01, 0x6b, 0x12, ...varint]), Buffer.alloc(valueLength, 0x61)]);
  assert.equal(bytes.length, totalBytes);
  return bytes;
}

describe('client mistakes get etcd\'s exact status and never reach the member', () => {
  let run: Running;
  before(async () => {
    run = await startServer();
  });
  after(async () => {
    await run.stop();
  });

  const invalid: Array<[string, string, Message, number, string]> = [
    ['Range with an empty key', 'Range', {}, 3, 'etcdserver: key is not provided'],
    ['Put with an empty key', 'Put', { value: key('v') }, 3, 'etcdserver: key is not provided'],
    ['DeleteRange with an empty key', 'DeleteRange', { range_end: key('z') }, 3, 'etcdserver: key is not provided'],
    ['Put ignore_value with a value', 'Put', { key: key('k'), value: key('v'), ignore_value: true }, 3, 'etcdserver: value is provided'],
    ['Put ignore_lease with a lease', 'Put', { key: key('k'), lease: 5, ignore_lease: true }, 3, 'etcdserver: lease is provided'],
    ['Txn with 129 puts', 'Txn', { success: Array.from({ length: 129 }, (_, i) => putOp(`k${i}`)) }, 3, 'etcdserver: too many operations in txn request'],
    ['Txn with 129 compares', 'Txn', { compare: Array.from({ length: 129 }, (_, i) => ({ key: key(`k${i}`) })) }, 3, 'etcdserver: too many operations in txn request'],
    [
      'Txn whose nested txn exceeds the budget its parent left',
      'Txn',
      { success: [...Array.from({ length: 100 }, (_, i) => putOp(`k${i}`)), { request_txn: { success: Array.from({ length: 29 }, (_, i) => putOp(`n${i}`)) } }] },
      3,
      'etcdserver: too many operations in txn request',
    ],
    ['Txn putting one key twice', 'Txn', { success: [putOp('a'), putOp('a')] }, 3, 'etcdserver: duplicate key given in txn request'],
    ['Txn putting a key in a nested txn too', 'Txn', { success: [putOp('a'), { request_txn: { success: [putOp('a')] } }] }, 3, 'etcdserver: duplicate key given in txn request'],
    [
      'Txn putting a key inside a deleted range',
      'Txn',
      { failure: [{ request_delete_range: { key: key('a'), range_end: key('c') } }, putOp('b')] },
      3,
      'etcdserver: duplicate key given in txn request',
    ],
    ['Txn with an empty RequestOp', 'Txn', { success: [{}] }, 3, 'etcdserver: key not found'],
    ['Txn with an empty compare key', 'Txn', { compare: [{ target: 1 }] }, 3, 'etcdserver: key is not provided'],
    ['Txn with an empty key in the branch not taken', 'Txn', { failure: [{ request_range: {} }] }, 3, 'etcdserver: key is not provided'],
    ['Txn with ignore_value and a value inside', 'Txn', { success: [{ request_put: { key: key('k'), value: key('v'), ignore_value: true } }] }, 3, 'etcdserver: value is provided'],
  ];
  for (const [name, method, request, code, message] of invalid) {
    test(`${name} → ${code} "${message}"`, async () => {
      const before = run.member.calls.length;
      const err = await failure(unary(run.clients.kv, method, request));
      assert.equal(err.code, code);
      assert.equal(err.details, message);
      assert.equal(run.member.calls.length, before, 'the member must not be called');
    });
  }

  const valid: Array<[string, Message]> = [
    ['128 puts', { success: Array.from({ length: 128 }, (_, i) => putOp(`k${i}`)) }],
    ['the same key put in success and in failure', { success: [putOp('a')], failure: [putOp('a')] }],
    ['two overlapping deletes and a range on a put key', {
      success: [
        { request_delete_range: { key: key('a'), range_end: key('c') } },
        { request_delete_range: { key: key('b'), range_end: key('d') } },
        putOp('x'),
        { request_range: { key: key('x') } },
      ],
    }],
    ['the same key in both branches of a nested txn', { success: [{ request_txn: { success: [putOp('a')], failure: [putOp('a')] } }] }],
    ['a put after a from-key delete (etcd does not see that overlap)', { success: [{ request_delete_range: { key: key('a'), range_end: Buffer.from([0]) } }, putOp('b')] }],
  ];
  for (const [name, request] of valid) {
    test(`Txn with ${name} reaches the member`, async () => {
      const before = run.member.callsTo('txn').length;
      await unary(run.clients.kv, 'Txn', request);
      assert.equal(run.member.callsTo('txn').length, before + 1);
    });
  }

  test('LeaseGrant above 9e9 s → 11 "etcdserver: too large lease TTL"; 9e9 s is granted', async () => {
    const err = await failure(unary(run.clients.lease, 'LeaseGrant', { TTL: '9000000001' }));
    assert.equal(err.code, 11);
    assert.equal(err.details, 'etcdserver: too large lease TTL');
    assert.equal(run.member.callsTo('leaseGrant').length, 0);
    const res = await unary<Message>(run.clients.lease, 'LeaseGrant', { TTL: '9000000000' });
    assert.equal(res.TTL, '9000000000');
  });

  test('a message over 2 MiB gets RESOURCE_EXHAUSTED with grpc-go\'s text; at the limit it is read', async () => {
    const before = run.member.callsTo('put').length;
    const tooBig = await rawCall(run.address, '/etcdserverpb.KV/Put', putOfSize(2_097_153));
    assert.equal(tooBig.code, 8);
    assert.equal(tooBig.details, 'grpc: received message larger than max (2097153 vs. 2097152)');
    // Exactly 2 MiB is received, then refused as a proposal over max-request-bytes.
    const atLimit = await rawCall(run.address, '/etcdserverpb.KV/Put', putOfSize(2_097_152));
    assert.equal(atLimit.code, 3);
    assert.equal(atLimit.details, 'etcdserver: request is too large');
    assert.equal(run.member.callsTo('put').length, before);
  });

  test('a 1.5 MiB value is "request is too large"; 1.5 MiB - 100 reaches the member', async () => {
    const before = run.member.callsTo('put').length;
    const err = await failure(unary(run.clients.kv, 'Put', { key: key('k'), value: Buffer.alloc(1_572_864) }));
    assert.equal(err.code, 3);
    assert.equal(err.details, 'etcdserver: request is too large');
    assert.equal(run.member.callsTo('put').length, before);
    await unary(run.clients.kv, 'Put', { key: key('k'), value: Buffer.alloc(1_572_864 - 100) });
    assert.equal(run.member.callsTo('put').length, before + 1);
  });

  test('malformed protobuf gets an error status and the server keeps serving', async () => {
    const before = run.member.calls.length;
    for (const garbage of [Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff]), Buffer.from([0x0a, 0x7f, 0x01]), Buffer.from([0x12])]) {
      const res = await rawCall(run.address, '/etcdserverpb.KV/Range', garbage);
      assert.equal(res.code, 13);
      assert.match(res.details, /^grpc: error unmarshalling request: /);
    }
    assert.equal(run.member.calls.length, before);
    const ok = await unary<Message>(run.clients.kv, 'Range', { key: key('still-here') });
    assert.equal(ok.header.revision, '7');
  });

  test('3.5-only methods are UNIMPLEMENTED with etcd\'s text', async () => {
    const downgrade = await failure(unary(run.clients.maintenance, 'Downgrade', { version: '3.4' }));
    assert.equal(downgrade.code, 12);
    assert.equal(downgrade.details, 'unknown method Downgrade for service etcdserverpb.Maintenance');
    const authStatus = await failure(unary(run.clients.auth, 'AuthStatus', {}));
    assert.equal(authStatus.code, 12);
    assert.equal(authStatus.details, 'unknown method AuthStatus for service etcdserverpb.Auth');
  });

  test('Authenticate says auth is not enabled; other auth calls are UNIMPLEMENTED', async () => {
    const auth = await failure(unary(run.clients.auth, 'Authenticate', { name: 'root', password: 'x' }));
    assert.equal(auth.code, 9);
    assert.equal(auth.details, 'etcdserver: authentication is not enabled');
    const userAdd = await failure(unary(run.clients.auth, 'UserAdd', { name: 'u' }));
    assert.equal(userAdd.code, 12);
    assert.equal(userAdd.details, 'unknown method UserAdd for service etcdserverpb.Auth');
  });

  test('health: service "" is SERVING, any other is NOT_FOUND "unknown service"', async () => {
    const serving = await unary<Message>(run.clients.health, 'Check', { service: '' });
    assert.equal(serving.status, 'SERVING');
    const unknown = await failure(unary(run.clients.health, 'Check', { service: 'etcdserverpb.KV' }));
    assert.equal(unknown.code, 5);
    assert.equal(unknown.details, 'unknown service');
  });
});
