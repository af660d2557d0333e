import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { status as GrpcStatus } from '@grpc/grpc-js';
import type { RequestContext } from '../../src/api/member-port';
import { Errors } from '../../src/errors';
import { timeToLiveFromLeader, type TimeToLiveRoute } from '../../src/server/member-leases';
import { PeerCallError, type TimeToLiveAnswer, type TimeToLiveQuery } from '../../src/transport';

const QUERY: TimeToLiveQuery = { leaseId: 7n, withKeys: true };
const FROM_LEADER: TimeToLiveAnswer = { ttlSeconds: 29n, grantedTtlSeconds: 30n, keys: [Buffer.from('k')] };
const HERE: TimeToLiveAnswer = { ttlSeconds: 30n, grantedTtlSeconds: 30n, keys: [] };

/** A route whose forwards fail with `failures` in order, then answer FROM_LEADER; leader null: this member leads. */
function routeFailing(failures: Error[], leader: bigint | null = 2n): TimeToLiveRoute & { forwards: bigint[] } {
  const forwards: bigint[] = [];
  return {
    forwards,
    awaitLeader: async () => undefined,
    remoteLeader: () => leader ?? undefined,
    here: () => HERE,
    forward: async (to) => {
      forwards.push(to);
      const failure = failures[forwards.length - 1];
      if (failure !== undefined) throw failure;
      return FROM_LEADER;
    },
  };
}

const ctx = (signal = new AbortController().signal): RequestContext => ({ signal, requireLeader: false });
const stale = (): PeerCallError => new PeerCallError('etcdserver: not leader', GrpcStatus.FAILED_PRECONDITION);

describe('TimeToLive routed to the leader', () => {
  test('the leader answers from its own lessor; a follower asks the leader', async () => {
    assert.deepEqual(await timeToLiveFromLeader(routeFailing([], null), QUERY, ctx()), HERE);
    const route = routeFailing([]);
    assert.deepEqual(await timeToLiveFromLeader(route, QUERY, ctx()), FROM_LEADER);
    assert.deepEqual(route.forwards, [2n]);
  });

  test('a stale leader or a dropped call is retried until the leader answers', async () => {
    const route = routeFailing([stale(), new PeerCallError('connection reset', GrpcStatus.UNAVAILABLE)]);
    assert.deepEqual(await timeToLiveFromLeader(route, QUERY, ctx()), FROM_LEADER);
    assert.equal(route.forwards.length, 3);
  });

  test("a leader that does not know the forward (an older latchkey) gets the follower's own answer", async () => {
    const route = routeFailing([new PeerCallError('unknown method', GrpcStatus.UNIMPLEMENTED)]);
    assert.deepEqual(await timeToLiveFromLeader(route, QUERY, ctx()), HERE);
    assert.equal(route.forwards.length, 1);
  });

  test('five failed forwards end in etcd\'s "request timed out"; an aborted caller stops at once', async () => {
    const route = routeFailing([stale(), stale(), stale(), stale(), stale(), stale()]);
    await assert.rejects(timeToLiveFromLeader(route, QUERY, ctx()), (err: Error) => err.message === Errors.timeout().message);
    assert.equal(route.forwards.length, 5);

    const controller = new AbortController();
    const aborting = routeFailing([stale(), stale()]);
    const forward = aborting.forward;
    aborting.forward = (to, query, signal) => {
      controller.abort();
      return forward(to, query, signal);
    };
    await assert.rejects(timeToLiveFromLeader(aborting, QUERY, ctx(controller.signal)), (err: Error) => err.message === Errors.timeout().message);
    assert.equal(aborting.forwards.length, 1);
  });
});
