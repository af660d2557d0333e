import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { PutRequest, RangeRequest, TxnRequest } from '../../src/storage/mvcc/types';
import { BIG_CLUSTER_ID, BIG_MEMBER_ID, kv } from './fake-member';
import { failure, startServer, unary, type Running } from './harness';

/** Responses as etcd3 (proto-loader, longs as strings, defaults) sees them. */
type Message = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

describe('KV over the wire, read with etcd\'s own protos', () => {
  let run: Running;
  before(async () => {
    run = await startServer();
  });
  after(async () => {
    await run.stop();
  });

  test('Range decodes every field and answers with a header carrying uint64 ids above 2^63', async () => {
    run.member.rangeResult = { kvs: [kv('a', 'x', { lease: -7n }), kv('b', '')], more: true, count: 133n };
    const res = await unary<Message>(run.clients.kv, 'Range', {
      key: Buffer.from('a'),
      range_end: Buffer.from([0]),
      limit: 2,
      revision: '9223372036854775807',
      sort_order: 2, // etcd3's proto names it 'Descend'
      sort_target: 3,
      serializable: true,
      keys_only: true,
      min_create_revision: 3,
      max_create_revision: '-1',
    });
    const req = run.member.callsTo('range').at(-1)!.args[0] as RangeRequest;
    assert.deepEqual(req.key, Buffer.from('a'));
    assert.deepEqual(req.rangeEnd, Buffer.from([0]));
    assert.equal(req.limit, 2n);
    assert.equal(req.revision, 9223372036854775807n);
    assert.equal(req.sortOrder, 2);
    assert.equal(req.sortTarget, 3);
    assert.equal(req.serializable, true);
    assert.equal(req.keysOnly, true);
    assert.equal(req.countOnly, false);
    assert.equal(req.minCreateRevision, 3n);
    assert.equal(req.maxCreateRevision, -1n);
    assert.equal(res.header.cluster_id, BIG_CLUSTER_ID.toString());
    assert.equal(res.header.member_id, BIG_MEMBER_ID.toString());
    assert.equal(res.header.revision, '7');
    assert.equal(res.header.raft_term, '2');
    assert.equal(res.count, '133');
    assert.equal(res.more, true);
    assert.equal(res.kvs.length, 2);
    assert.equal(res.kvs[0].lease, '-7');
    assert.equal(res.kvs[0].value.toString(), 'x');
    assert.equal(res.kvs[1].value.length, 0);
  });

  test('Put passes lease, prev_kv and flags through and returns prev_kv', async () => {
    const res = await unary<Message>(run.clients.kv, 'Put', { key: Buffer.from('k'), value: Buffer.from('v'), lease: '-7', prev_kv: true });
    const req = run.member.callsTo('put').at(-1)!.args[0] as PutRequest;
    assert.equal(req.lease, -7n);
    assert.equal(req.prevKv, true);
    assert.deepEqual(req.value, Buffer.from('v'));
    assert.equal(res.prev_kv.key.toString(), 'p');
    assert.equal(res.header.revision, '7');
  });

  test('Txn: missing compare result/target/value mean EQUAL/VERSION/0, empty RequestOp reaches nothing', async () => {
    run.member.txnResult = {
      succeeded: true,
      responses: [
        { kind: 'put', put: {}, headerRevision: 8n },
        { kind: 'range', range: { kvs: [], more: false, count: 0n }, headerRevision: 8n },
        { kind: 'deleteRange', deleteRange: { deleted: 0n, prevKvs: [] }, headerRevision: 8n },
        { kind: 'txn', txn: { succeeded: false, responses: [] } },
      ],
    };
    const res = await unary<Message>(run.clients.kv, 'Txn', {
      compare: [{ key: Buffer.from('c') }, { key: Buffer.from('d'), target: 1, result: 1, create_revision: '0' }],
      success: [
        { request_put: { key: Buffer.from('x') } },
        { request_range: { key: Buffer.from('x') } },
        { request_delete_range: { key: Buffer.from('y') } },
        { request_txn: {} },
      ],
    });
    const req = run.member.callsTo('txn').at(-1)!.args[0] as TxnRequest;
    assert.equal(req.compare[0]!.result, 0);
    assert.equal(req.compare[0]!.target, 0);
    assert.equal(req.compare[0]!.version, 0n);
    assert.equal(req.compare[1]!.target, 1);
    assert.equal(req.compare[1]!.result, 1);
    assert.deepEqual(req.success.map((op) => op.kind), ['put', 'range', 'deleteRange', 'txn']);
    assert.equal(res.succeeded, true);
    // ResponseOp's oneof is always set, and nested headers carry only the revision.
    assert.deepEqual(res.responses.map((r: Message) => r.response), ['response_put', 'response_range', 'response_delete_range', 'response_txn']);
    assert.equal(res.responses[0].response_put.header.revision, '8');
    assert.equal(res.responses[0].response_put.header.cluster_id, '0');
    assert.equal(res.responses[1].response_range.header.revision, '8');
    assert.equal(res.responses[3].response_txn.header.revision, '0');
    assert.equal(res.responses[3].response_txn.succeeded, false);
  });

  test('Compact passes revision and physical', async () => {
    const res = await unary<Message>(run.clients.kv, 'Compact', { revision: 23, physical: true });
    assert.deepEqual(run.member.callsTo('compact').at(-1)!.args[0], { revision: 23n, physical: true });
    assert.equal(res.header.revision, '7');
  });

  test('an EtcdError from the member keeps its code and text; any other error is UNKNOWN', async () => {
    const { Errors } = await import('../../src/errors');
    run.member.failNext = Errors.compacted();
    const compacted = await failure(unary(run.clients.kv, 'Range', { key: Buffer.from('a'), revision: 1 }));
    assert.equal(compacted.code, 11);
    assert.equal(compacted.details, 'etcdserver: mvcc: required revision has been compacted');
    run.member.failNext = new Error('disk on fire');
    const unknown = await failure(unary(run.clients.kv, 'Range', { key: Buffer.from('a') }));
    assert.equal(unknown.code, 2);
    assert.equal(unknown.details, 'disk on fire');
  });

  test('metadata hasleader=true sets requireLeader; without it the context does not require one', async () => {
    const grpc = await import('@grpc/grpc-js');
    const md = new grpc.Metadata();
    md.set('hasleader', 'true');
    await unary(run.clients.kv, 'Range', { key: Buffer.from('a') }, md);
    assert.equal(run.member.callsTo('range').at(-1)!.ctx!.requireLeader, true);
    await unary(run.clients.kv, 'Range', { key: Buffer.from('a') });
    assert.equal(run.member.callsTo('range').at(-1)!.ctx!.requireLeader, false);
  });

  test('a normally answered request never sees its signal abort', async () => {
    await unary(run.clients.kv, 'Range', { key: Buffer.from('a') });
    const signal = run.member.callsTo('range').at(-1)!.ctx!.signal;
    // The HTTP/2 stream closes after the answer; give that close event a chance to arrive.
    await new Promise((resolve) => setImmediate(resolve));
    await unary(run.clients.kv, 'Range', { key: Buffer.from('b') });
    assert.equal(signal.aborted, false);

    // The same when the handler looked at its signal while the call was in flight (the
    // signal is made on first use, so this is the path that listens for cancellation).
    let release!: () => void;
    run.member.hold = new Promise((resolve) => (release = resolve));
    const seen = run.member.nextCall('range');
    const answered = unary(run.clients.kv, 'Range', { key: Buffer.from('c') });
    const inFlight = (await seen).ctx!.signal;
    assert.equal(inFlight.aborted, false);
    run.member.hold = undefined;
    release();
    await answered;
    await new Promise((resolve) => setImmediate(resolve));
    await unary(run.clients.kv, 'Range', { key: Buffer.from('d') });
    assert.equal(inFlight.aborted, false);
  });

  test('a client deadline aborts the request context', async () => {
    let release!: () => void;
    run.member.hold = new Promise((resolve) => (release = resolve));
    const seen = run.member.nextCall('range');
    const call = new Promise<unknown>((resolve) => {
      (run.clients.kv as any).Range({ key: Buffer.from('slow') }, { deadline: Date.now() + 200 }, (err: unknown) => resolve(err)); // eslint-disable-line @typescript-eslint/no-explicit-any
    });
    const recorded = await seen;
    const signal = recorded.ctx!.signal;
    if (!signal.aborted) await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
    assert.equal(signal.aborted, true);
    const err = (await call) as { code: number };
    assert.equal(err.code, 4);
    run.member.hold = undefined;
    release();
  });
});
