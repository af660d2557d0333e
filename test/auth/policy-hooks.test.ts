import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type * as http from 'node:http';
import { Metadata, type ServiceError } from '@grpc/grpc-js';
import { WATCH_PERMISSION_DENIED_REASON } from '../../src/api/auth-policy';
import { authorizedMember } from '../../src/api/authorized-member';
import type { WatchResponse } from '../../src/storage/mvcc/watch/types';
import { messageType } from '../../src/api/codec/proto-root';
import { createGrpcServices, type GrpcService } from '../../src/api/grpc-services';
import { OpenStreams } from '../../src/api/open-streams';
import { MAX_WATCHERS_PER_STREAM, tooManyWatchersReason, watchService } from '../../src/api/watch-service';
import { gatewayMetadata } from '../../src/gateway/request-metadata';
import { silentLogger } from '../../src/log';
import { FakeMember } from '../api/fake-member';
import { FakeCall, FakeGate } from './policy-fakes';

const b = (s: string): Buffer => Buffer.from(s);

function handlerOf(services: GrpcService[], service: string, method: string): (...args: unknown[]) => void {
  const found = services.find((s) => s.name === service);
  assert.ok(found, service);
  return found.implementation[method] as (...args: unknown[]) => void;
}

/** Runs a unary handler with a FakeCall; resolves with [error, response]. */
function unary(services: GrpcService[], service: string, method: string, request: unknown, metadata: Record<string, string> = {}): Promise<[Partial<ServiceError> | null, unknown]> {
  const call = new FakeCall(metadata);
  call.request = request;
  return new Promise((resolve) => {
    handlerOf(services, service, method)(call, (err: Partial<ServiceError> | null, response: unknown) => resolve([err, response]));
  });
}

const watchResponseType = messageType('etcdserverpb.WatchResponse');
function decodeWatch(message: unknown): Record<string, unknown> {
  return watchResponseType.toObject(watchResponseType.decode(message as Buffer), { longs: String, defaults: true }) as Record<string, unknown>;
}

describe('the unary hook', () => {
  test('puts the resolved identity into the RequestContext and refuses before the member is called', async () => {
    const member = new FakeMember();
    const services = createGrpcServices(member, silentLogger(), { authGate: new FakeGate() });
    const [err] = await unary(services, 'etcdserverpb.KV', 'Range', { key: b('/app/x') }, { token: 'tok-reader' });
    assert.equal(err, null);
    assert.deepEqual(member.callsTo('range')[0]!.ctx!.identity, { user: 'reader', authRevision: 1n });

    const [denied] = await unary(services, 'etcdserverpb.KV', 'Put', { key: b('/app/x'), value: b('v') }, { token: 'tok-reader' });
    assert.equal(denied?.code, 7);
    assert.equal(denied?.details, 'etcdserver: permission denied');
    assert.equal(member.callsTo('put').length, 0);

    const [empty] = await unary(services, 'etcdserverpb.KV', 'Range', { key: b('/app/x') });
    assert.equal(empty?.code, 3);
    assert.equal(empty?.details, 'etcdserver: user name is empty');
  });

  test('with auth off (the default gate) a checked call carries identity null, an unchecked one none', async () => {
    const member = new FakeMember();
    const services = createGrpcServices(member, silentLogger());
    await unary(services, 'etcdserverpb.KV', 'Range', { key: b('k') });
    await unary(services, 'etcdserverpb.Maintenance', 'Status', {});
    assert.equal(member.callsTo('range')[0]!.ctx!.identity, null);
    assert.equal(member.callsTo('status')[0]!.ctx!.identity, undefined);
  });

  test('admin server streams (Snapshot) are refused before anything is sent', async () => {
    const member = new FakeMember();
    member.snapshotChunks = [{ remainingBytes: 0n, blob: b('x') }];
    const services = createGrpcServices(member, silentLogger(), { authGate: new FakeGate() });
    const call = new FakeCall({ token: 'tok-writer' });
    call.request = {};
    const failed = new Promise<Partial<ServiceError>>((resolve) => call.once('error', resolve));
    handlerOf(services, 'etcdserverpb.Maintenance', 'Snapshot')(call);
    const err = await failed;
    assert.equal(err.code, 2);
    assert.equal(err.details, 'auth: permission denied');
    assert.equal(call.written.length, 0);
    assert.equal(member.callsTo('snapshot').length, 0);
  });
});

describe('the watch hook', () => {
  function watchCall(services: GrpcService[], metadata: Record<string, string>): { call: FakeCall; member?: FakeMember } {
    const call = new FakeCall(metadata);
    handlerOf(services, 'etcdserverpb.Watch', 'Watch')(call);
    return { call };
  }

  test('a create without READ permission is a canceled created response (watch_id -1), the stream goes on', () => {
    const member = new FakeMember();
    const services = createGrpcServices(member, silentLogger(), { authGate: new FakeGate() });
    const { call } = watchCall(services, { token: 'tok-reader' });
    call.emit('data', { create_request: { key: b('/other'), range_end: b('/otheR') } });
    call.emit('data', { create_request: { key: b('/app/x') } });
    const [refusal, created] = call.written.map(decodeWatch);
    assert.equal(refusal!.watch_id, '-1');
    assert.equal(refusal!.created, true);
    assert.equal(refusal!.canceled, true);
    assert.equal(refusal!.cancel_reason, WATCH_PERMISSION_DENIED_REASON);
    assert.equal((refusal!.header as { revision: string }).revision, '7');
    assert.equal(created!.watch_id, '0');
    assert.equal(created!.canceled, false);
    assert.equal(member.watchStreams[0]!.creates.length, 1);
  });

  test('without a token while auth is on, or with a bogus token while it is off, every create is refused with the reason', () => {
    const member = new FakeMember();
    const gate = new FakeGate();
    const services = createGrpcServices(member, silentLogger(), { authGate: gate });
    const { call } = watchCall(services, {});
    call.emit('data', { create_request: { key: b('/app/x') } });
    assert.equal(decodeWatch(call.written[0]).cancel_reason, 'rpc error: code = InvalidArgument desc = etcdserver: user name is empty');
    gate.on = false;
    const bogus = watchCall(services, { token: 'bogus' }).call;
    bogus.emit('data', { create_request: { key: b('/app/x') } });
    assert.equal(decodeWatch(bogus.written[0]).cancel_reason, 'rpc error: code = Unauthenticated desc = etcdserver: invalid auth token');
    const open = watchCall(services, {}).call;
    open.emit('data', { create_request: { key: b('/app/x') } });
    assert.equal(decodeWatch(open.written[0]).canceled, false);
  });
});

describe('the member as v3lock/v3election see it (authorizedMember)', () => {
  const ctx = { signal: new AbortController().signal, requireLeader: false };
  const rangeOf = (key: string) => ({ key: b(key), rangeEnd: Buffer.alloc(0), limit: 0n, revision: 0n, sortOrder: 0, sortTarget: 0, serializable: false, keysOnly: false, countOnly: false, minModRevision: 0n, maxModRevision: 0n, minCreateRevision: 0n, maxCreateRevision: 0n }) as const;

  test('checks every inner call with the caller resolved afresh, before the member sees it', async () => {
    const member = new FakeMember();
    let resolutions = 0;
    const port = authorizedMember(member, new FakeGate(), () => {
      resolutions++;
      return { user: 'reader', authRevision: 1n };
    });
    await port.kv.range(rangeOf('/app/x'), ctx);
    await assert.rejects(port.kv.range(rangeOf('/other'), ctx), /permission denied/);
    await assert.rejects(port.kv.put({ key: b('/app/x'), value: b('v'), lease: 0n, prevKv: false, ignoreValue: false, ignoreLease: false }, ctx), /permission denied/);
    await assert.rejects(port.kv.deleteRange({ key: b('/app/x'), rangeEnd: Buffer.alloc(0), prevKv: false }, ctx), /permission denied/);
    assert.equal(resolutions, 4);
    assert.equal(member.callsTo('range').length, 1);
    assert.equal(member.callsTo('put').length + member.callsTo('deleteRange').length, 0);
  });

  test('a watch create it may not make is answered as etcd refuses one; others reach the member', () => {
    const member = new FakeMember();
    const port = authorizedMember(member, new FakeGate(), () => ({ user: 'reader', authRevision: 1n }));
    const seen: WatchResponse[] = [];
    const stream = port.watch.openStream((r) => seen.push(r));
    const create = (key: string) => ({ key: b(key), rangeEnd: Buffer.alloc(0), startRevision: 0n, progressNotify: false, filters: [], prevKv: false, watchId: 0n, fragment: false });
    stream.create(create('/other'));
    stream.create(create('/app/x'));
    assert.deepEqual(seen.map((r) => [r.watchId, r.created, r.canceled, r.cancelReason]), [
      [-1n, true, true, WATCH_PERMISSION_DENIED_REASON],
      [0n, true, false, ''],
    ]);
    assert.equal(member.watchStreams[0]!.creates.length, 1);
  });
});

describe('the watcher bound', () => {
  test('is 10,000 per stream by default', () => {
    assert.equal(MAX_WATCHERS_PER_STREAM, 10_000);
  });

  test('a create beyond it is refused like a failed create; canceling one makes room again', () => {
    const member = new FakeMember();
    const service = watchService(member, silentLogger(), { fragmentThresholdBytes: 1 << 21, maxBufferedBytes: 1 << 20, openStreams: new OpenStreams(), maxWatchersPerStream: 3 });
    const call = new FakeCall();
    (service.Watch as (c: unknown) => void)(call);
    for (let i = 0; i < 4; i++) call.emit('data', { create_request: { key: b(`k${i}`) } });
    const responses = call.written.map(decodeWatch);
    assert.deepEqual(responses.map((r) => [r.watch_id, r.created, r.canceled]), [['0', true, false], ['1', true, false], ['2', true, false], ['-1', true, true]]);
    assert.equal(responses[3]!.cancel_reason, tooManyWatchersReason(3));
    call.emit('data', { cancel_request: { watch_id: 1 } });
    call.emit('data', { create_request: { key: b('k9') } });
    const after = call.written.slice(4).map(decodeWatch);
    assert.deepEqual(after.map((r) => [r.watch_id, r.created, r.canceled]), [['1', false, true], ['3', true, false]]);
    assert.equal(member.watchStreams[0]!.creates.length, 4);
  });
});

describe('gateway metadata', () => {
  test('Authorization becomes `authorization`, Grpc-Metadata-* headers pass, a `token` header does not', () => {
    const metadata = new Metadata();
    const req = { headers: { authorization: 'abc.1', token: 'ignored', 'grpc-metadata-hasleader': 'true', accept: 'application/json' } } as unknown as http.IncomingMessage;
    gatewayMetadata(metadata, req);
    assert.deepEqual(metadata.get('authorization'), ['abc.1']);
    assert.deepEqual(metadata.get('token'), []);
    assert.deepEqual(metadata.get('hasleader'), ['true']);
    assert.deepEqual(metadata.get('grpcgateway-accept'), ['application/json']);
  });
});
