import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import {
  CompactedError,
  Connection,
  EtcdError,
  LeaseNotFoundError,
  NoLeaderError,
  prefixEnd,
  sessionKey,
  toEtcdError,
  UnavailableError,
} from '../../clients/typescript/src';
import { isRetryable } from '../../clients/typescript/src/errors';
import { findProtoDir, method } from '../../clients/typescript/src/proto';

function status(code: grpc.status, details: string): grpc.ServiceError {
  return Object.assign(new Error(details), { code, details, metadata: new grpc.Metadata() });
}

describe('latchkey-client building blocks (no server)', () => {
  test('prefixEnd is the first key after every key with the prefix', () => {
    assert.deepEqual(prefixEnd('lock/'), Buffer.from('lock0'));
    assert.deepEqual(prefixEnd(Buffer.from([0x61, 0xff])), Buffer.from([0x62]));
    assert.deepEqual(prefixEnd(Buffer.from([0xff, 0xff])), Buffer.from([0]));
  });

  test('session keys are the Go layout: prefix + lowercase hex lease id without padding', () => {
    assert.equal(sessionKey('mylock/', 0x12c8a217c50ea211n), 'mylock/12c8a217c50ea211');
    assert.equal(sessionKey('e/', 0x1an), 'e/1a');
  });

  test('etcd messages map to typed errors by exact text', () => {
    const compacted = toEtcdError(status(grpc.status.OUT_OF_RANGE, 'etcdserver: mvcc: required revision has been compacted'));
    assert.ok(compacted instanceof CompactedError);
    assert.equal(compacted.code, grpc.status.OUT_OF_RANGE);
    assert.ok(toEtcdError(status(grpc.status.NOT_FOUND, 'etcdserver: requested lease not found')) instanceof LeaseNotFoundError);
    assert.ok(toEtcdError(status(grpc.status.UNAVAILABLE, 'No connection established')) instanceof UnavailableError);
    const other = toEtcdError(status(grpc.status.INTERNAL, 'something else'));
    assert.ok(other instanceof EtcdError);
    assert.equal(other.message, 'something else');
  });

  test('retry policy: reads on any UNAVAILABLE, writes only when they cannot have applied', () => {
    const noConnection = toEtcdError(status(grpc.status.UNAVAILABLE, 'No connection established. Last error: connect ECONNREFUSED'));
    const noLeader = toEtcdError(status(grpc.status.UNAVAILABLE, 'etcdserver: no leader'));
    const timedOut = toEtcdError(status(grpc.status.UNAVAILABLE, 'etcdserver: request timed out'));
    const dropped = toEtcdError(status(grpc.status.UNAVAILABLE, 'Connection dropped'));
    const invalid = toEtcdError(status(grpc.status.INVALID_ARGUMENT, 'etcdserver: key is not provided'));
    assert.ok(noLeader instanceof NoLeaderError);
    for (const error of [noConnection, noLeader, timedOut, dropped]) assert.equal(isRetryable(error, true), true);
    assert.equal(isRetryable(noConnection, false), true);
    assert.equal(isRetryable(noLeader, false), true);
    assert.equal(isRetryable(timedOut, false), false, 'a timed-out write may have been applied');
    assert.equal(isRetryable(dropped, false), false, 'a dropped write may have been applied');
    assert.equal(isRetryable(invalid, true), false);
  });

  test('backoff grows exponentially, stays within [d/2, d] and is capped', () => {
    const connection = new Connection({ endpoints: ['127.0.0.1:1'], retryBaseDelayMs: 100, retryMaxDelayMs: 1_000 });
    try {
      for (let attempt = 0; attempt < 10; attempt++) {
        const ceiling = Math.min(1_000, 100 * 2 ** attempt);
        for (let sample = 0; sample < 20; sample++) {
          const delay = connection.backoffDelayMs(attempt);
          assert.ok(delay >= ceiling / 2 && delay <= ceiling, `attempt ${attempt}: ${delay}`);
        }
      }
    } finally {
      connection.close();
    }
  });

  test('the protos are found from the compiled client and define the etcd methods', () => {
    assert.match(findProtoDir(), /proto$/);
    assert.equal(method('KV', 'Txn').path, '/etcdserverpb.KV/Txn');
    assert.equal(method('Watch', 'Watch').requestStream, true);
    assert.equal(method('Lease', 'LeaseKeepAlive').responseStream, true);
  });

  test('a client needs at least one endpoint', () => {
    assert.throws(() => new Connection({ endpoints: [] }), /at least one endpoint/);
  });
});
