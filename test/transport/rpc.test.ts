import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Client, credentials, status as GrpcStatus } from '@grpc/grpc-js';
import { Errors } from '../../src/errors';
import { encodeRaftEnvelope } from '../../src/transport';
import { identityMetadata } from '../../src/transport/peer-metadata';
import { PeerMethod, passBuffer } from '../../src/transport/peer-service';
import { freePorts } from '../support/ports';
import { closeAll, heartbeat, makeMember, startMembers, type TestMember } from './harness';

/** Opens a raw Peer/Stream with the given identity and reports how the receiver ends it. */
function rawStreamStatus(
  address: string,
  identity: { clusterId: bigint; from: bigint; to: bigint },
  frame: Buffer = encodeRaftEnvelope([heartbeat(identity.from, identity.to)]),
): Promise<{ code: number; details: string }> {
  const client = new Client(address, credentials.createInsecure());
  const call = client.makeBidiStreamRequest(PeerMethod.Stream, passBuffer, passBuffer, identityMetadata(identity));
  call.write(frame);
  return new Promise((resolve) => {
    call.on('data', () => undefined);
    call.on('error', () => undefined);
    call.on('status', (status) => {
      client.close();
      resolve({ code: status.code, details: status.details });
    });
  });
}

describe('peer identity', () => {
  test('a member of another cluster cannot inject messages', async () => {
    const [portA, portB] = (await freePorts(2)) as [number, number];
    const a = makeMember(1n, portA, 0x1111n);
    const intruder = makeMember(2n, portB, 0x2222n);
    try {
      for (const member of [a, intruder]) await member.transport.start([member.url]);
      intruder.transport.setPeers([{ id: 1n, peerUrls: [a.url] }]);
      intruder.transport.send([heartbeat(2n, 1n)]);
      await intruder.handler.waitFor('the intruder sees its peer as unreachable', () => intruder.handler.unreachable.includes(1n));
      assert.deepEqual(a.handler.messages, []);

      const status = await rawStreamStatus(`127.0.0.1:${portA}`, { clusterId: 0x2222n, from: 2n, to: 1n });
      assert.equal(status.code, GrpcStatus.FAILED_PRECONDITION);
      assert.match(status.details, /cluster id mismatch/);
      assert.deepEqual(a.handler.messages, []);
    } finally {
      await a.transport.close();
      await intruder.transport.close();
    }
  });

  test('a stream meant for another member id, or without identity, is refused', async () => {
    const members = await startMembers([1n, 2n]);
    try {
      const [a] = members as [TestMember, TestMember];
      const address = a.url.replace('http://', '');
      const wrongTarget = await rawStreamStatus(address, { clusterId: 0x1234n, from: 2n, to: 3n });
      assert.equal(wrongTarget.code, GrpcStatus.FAILED_PRECONDITION);
      assert.match(wrongTarget.details, /member id mismatch/);

      const client = new Client(address, credentials.createInsecure());
      const anonymous = client.makeBidiStreamRequest(PeerMethod.Stream, passBuffer, passBuffer);
      const code = await new Promise<number>((resolve) => {
        anonymous.on('error', () => undefined);
        anonymous.on('status', (status) => resolve(status.code));
      });
      client.close();
      assert.equal(code, GrpcStatus.INVALID_ARGUMENT);
      assert.deepEqual(a.handler.messages, []);
    } finally {
      await closeAll(members);
    }
  });

  test('a stream carrying an undecodable frame is closed', async () => {
    const members = await startMembers([1n, 2n]);
    try {
      const [a] = members as [TestMember, TestMember];
      const garbage = Buffer.from([0x0a, 0x05, 0x08, 0xff]); // a Message that claims 5 bytes and has 2
      const status = await rawStreamStatus(a.url.replace('http://', ''), { clusterId: 0x1234n, from: 2n, to: 1n }, garbage);
      assert.equal(status.code, GrpcStatus.INVALID_ARGUMENT);
      assert.match(status.details, /undecodable/);
      assert.deepEqual(a.handler.messages, []);
    } finally {
      await closeAll(members);
    }
  });

  test('messages whose sender is not the stream owner are dropped', async () => {
    const members = await startMembers([1n, 2n, 3n]);
    try {
      const [a, b] = members as [TestMember, TestMember, TestMember];
      // b's stream to a carries a message claiming to be from 3: a must not believe it.
      b.transport.send([heartbeat(3n, 1n), heartbeat(2n, 1n, 5n)]);
      await a.handler.waitFor('the genuine heartbeat', () => a.handler.messages.length > 0);
      assert.deepEqual(
        a.handler.messages.map((m) => [m.from, m.commit]),
        [[2n, 5n]],
      );
    } finally {
      await closeAll(members);
    }
  });
});

describe('removed members', () => {
  test('a removed member is refused, even on a stream opened before its removal, and learns it once', async () => {
    const members = await startMembers([1n, 2n, 3n], { backoffInitialMs: 10, backoffMaxMs: 20 });
    try {
      const [a, b, c] = members as [TestMember, TestMember, TestMember];
      b.transport.send([heartbeat(2n, 1n, 1n), heartbeat(2n, 3n, 1n)]);
      await a.handler.waitFor('a heartbeat before the removal', () => a.handler.messages.length === 1);
      await c.handler.waitFor('a heartbeat before the removal', () => c.handler.messages.length === 1);

      a.handler.removedIds.add(2n);
      c.handler.removedIds.add(2n);
      const timer = setInterval(() => b.transport.send([heartbeat(2n, 1n, 2n), heartbeat(2n, 3n, 2n)]), 5);
      try {
        await b.handler.waitFor('b told it was removed', () => b.handler.removedReports > 0);
        await b.handler.waitFor('several refused attempts', () => b.handler.unreachable.length >= 6);
      } finally {
        clearInterval(timer);
      }
      assert.equal(b.handler.removedReports, 1);
      assert.deepEqual(a.handler.messages.map((m) => m.commit), [1n]);
      assert.deepEqual(c.handler.messages.map((m) => m.commit), [1n]);
      // Members that were not removed still talk.
      a.transport.send([heartbeat(1n, 3n, 9n)]);
      await c.handler.waitFor('a heartbeat from a', () => c.handler.messagesFrom(1n).length === 1);
    } finally {
      await closeAll(members);
    }
  });
});

describe('unary peer calls', () => {
  test('a follower forwards a lease keepalive to the leader and gets the TTL', async () => {
    const members = await startMembers([1n, 2n]);
    try {
      const [follower, leader] = members as [TestMember, TestMember];
      const leaseId = 0x694d77a1a2b3c4d5n;
      leader.handler.leaseTtls.set(leaseId, 60n);
      leader.handler.leaseTtls.set(-3n, 7n);
      assert.equal(await follower.transport.forwardLeaseKeepAlive(2n, leaseId, AbortSignal.timeout(5_000)), 60n);
      assert.equal(await follower.transport.forwardLeaseKeepAlive(2n, -3n, AbortSignal.timeout(5_000)), 7n);
      assert.equal(await follower.transport.forwardLeaseKeepAlive(2n, 12345n, AbortSignal.timeout(5_000)), 0n, 'unknown lease');
    } finally {
      await closeAll(members);
    }
  });

  test('a follower forwards a TimeToLive to the leader and gets its answer, keys included', async () => {
    const members = await startMembers([1n, 2n]);
    try {
      const [follower, leader] = members as [TestMember, TestMember];
      const leaseId = -0x694d77a1a2b3c4d5n; // negative ids travel as two's complement
      leader.handler.leaseTtls.set(leaseId, 60n);
      const ask = (id: bigint, withKeys: boolean) => follower.transport.forwardLeaseTimeToLive(2n, { leaseId: id, withKeys }, AbortSignal.timeout(5_000));
      assert.deepEqual(await ask(leaseId, false), { ttlSeconds: 59n, grantedTtlSeconds: 60n, keys: [] });
      assert.deepEqual(await ask(leaseId, true), { ttlSeconds: 59n, grantedTtlSeconds: 60n, keys: [Buffer.from(`k${leaseId}`), Buffer.alloc(0)] });
      assert.deepEqual(await ask(12345n, true), { ttlSeconds: -1n, grantedTtlSeconds: 0n, keys: [] }, 'unknown lease');
      leader.handler.leaseTimeToLive = () => {
        throw Errors.notLeader();
      };
      await assert.rejects(ask(leaseId, false), (err: Error & { code?: number }) => err.code === GrpcStatus.FAILED_PRECONDITION && err.message === 'etcdserver: not leader');

      // Bytes that are no LeaseTimeToLiveForward are refused; the handler is never asked.
      let asked = 0;
      leader.handler.leaseTimeToLive = () => {
        asked++;
        return { ttlSeconds: 1n, grantedTtlSeconds: 1n, keys: [] };
      };
      const client = new Client(leader.url.replace('http://', ''), credentials.createInsecure());
      try {
        const status = await new Promise<{ code: number; details: string }>((resolve) => {
          const metadata = identityMetadata({ clusterId: 0x1234n, from: 1n, to: 2n });
          const garbage = Buffer.from([0x0a, 0xff]); // field 1 declared length-delimited, truncated
          client.makeUnaryRequest(PeerMethod.LeaseTimeToLive, passBuffer, passBuffer, garbage, metadata, { deadline: Date.now() + 5_000 }, (err) =>
            resolve({ code: err?.code ?? 0, details: err?.details ?? '' }),
          );
        });
        assert.equal(status.code, GrpcStatus.INVALID_ARGUMENT);
        assert.match(status.details, /bad LeaseTimeToLiveForward/);
        assert.equal(asked, 0);
      } finally {
        client.close();
      }
    } finally {
      await closeAll(members);
    }
  });

  test('a keepalive forward fails cleanly when the leader fails, is unknown or the caller aborts', async () => {
    const members = await startMembers([1n, 2n]);
    try {
      const [follower, leader] = members as [TestMember, TestMember];
      leader.handler.leaseKeepAlive = async () => {
        throw new Error('lessor exploded');
      };
      await assert.rejects(
        follower.transport.forwardLeaseKeepAlive(2n, 1n, AbortSignal.timeout(5_000)),
        (err: Error & { code?: number }) => err.code === GrpcStatus.UNAVAILABLE && /lessor exploded/.test(err.message),
      );
      leader.handler.leaseKeepAlive = async () => {
        throw Errors.notLeader();
      };
      await assert.rejects(
        follower.transport.forwardLeaseKeepAlive(2n, 1n, AbortSignal.timeout(5_000)),
        (err: Error & { code?: number }) => err.code === GrpcStatus.FAILED_PRECONDITION && err.message === 'etcdserver: not leader',
        'an etcd error keeps its code and text across the forward',
      );
      await assert.rejects(follower.transport.forwardLeaseKeepAlive(9n, 1n, AbortSignal.timeout(5_000)), /unreachable/);

      leader.handler.leaseKeepAlive = () => new Promise(() => undefined);
      const controller = new AbortController();
      const pending = follower.transport.forwardLeaseKeepAlive(2n, 1n, controller.signal);
      controller.abort();
      await assert.rejects(pending, (err: Error & { code?: number }) => err.code === GrpcStatus.CANCELLED);
    } finally {
      await closeAll(members);
    }
  });

  test('a keepalive forward that the leader never answers hits its deadline', async () => {
    const members = await startMembers([1n, 2n], { requestTimeoutMs: 200 });
    try {
      const [follower, leader] = members as [TestMember, TestMember];
      leader.handler.leaseKeepAlive = () => new Promise(() => undefined);
      const started = Date.now();
      await assert.rejects(follower.transport.forwardLeaseKeepAlive(2n, 1n, AbortSignal.timeout(10_000)), (err: Error & { code?: number }) => err.code === GrpcStatus.DEADLINE_EXCEEDED);
      assert.ok(Date.now() - started < 2_000);
    } finally {
      await closeAll(members);
    }
  });

  test('a joining member fetches the cluster id and members, skipping a dead URL', async () => {
    const members = await startMembers([1n, 2n]);
    const [deadPort, joinerPort] = (await freePorts(2)) as [number, number];
    const joiner = makeMember(3n, joinerPort, 0n);
    try {
      const [, b] = members as [TestMember, TestMember];
      b.handler.clusterMembers = [
        { id: 1n, name: 'one', peerUrls: [members[0]!.url], clientUrls: ['http://127.0.0.1:2379'], isLearner: false },
        { id: 2n, name: 'two', peerUrls: [b.url], clientUrls: ['http://127.0.0.1:22379'], isLearner: false },
        { id: 0xfffffffffffffff0n, name: '', peerUrls: ['http://127.0.0.1:32380'], clientUrls: [], isLearner: true },
      ];
      const info = await joiner.transport.fetchClusterInfo([`http://127.0.0.1:${deadPort}`, b.url], AbortSignal.timeout(10_000));
      assert.equal(info.clusterId, 0x1234n);
      assert.deepEqual(info.members, b.handler.clusterMembers);
    } finally {
      await joiner.transport.close();
      await closeAll(members);
    }
  });

  test('fetchClusterInfo fails when nobody answers, over http or https', async () => {
    const [deadPort, joinerPort] = (await freePorts(2)) as [number, number];
    const joiner = makeMember(3n, joinerPort, 0n, { dialTimeoutMs: 300 });
    try {
      await assert.rejects(joiner.transport.fetchClusterInfo([`http://127.0.0.1:${deadPort}`], AbortSignal.timeout(5_000)), /no peer answered/);
      await assert.rejects(joiner.transport.fetchClusterInfo([`https://127.0.0.1:${deadPort}`], AbortSignal.timeout(5_000)), /no peer answered/);
    } finally {
      await joiner.transport.close();
    }
  });
});
