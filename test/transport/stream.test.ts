import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { MessageType, newMessage, type NodeId } from '../../src/consensus';
import { closeAll, heartbeat, numbered, startMembers, type TestMember } from './harness';

const COUNT = 1000;

/** Sends COUNT numbered appends from `from` to `to`, in bursts like a Ready loop would. */
function sendNumbered(from: TestMember, to: NodeId): void {
  for (let start = 0; start < COUNT; start += 50) {
    const burst = [];
    for (let i = start; i < start + 50; i++) burst.push(numbered(from.id, to, i));
    from.transport.send(burst);
  }
}

function assertInOrder(received: TestMember, from: NodeId): void {
  const indexes = received.handler.messagesFrom(from).map((m) => Number(m.index));
  assert.deepEqual(indexes, Array.from({ length: COUNT }, (_, i) => i), `order of messages from ${from}`);
  const sample = received.handler.messagesFrom(from)[123]!;
  assert.equal(sample.type, MessageType.App);
  assert.equal(sample.to, received.id);
  assert.equal(Buffer.from(sample.entries[0]!.data).toString(), 'entry-123');
}

describe('peer streams', () => {
  test('two members exchange 1,000 messages each way, in order', async () => {
    const members = await startMembers([1n, 2n]);
    try {
      const [a, b] = members as [TestMember, TestMember];
      sendNumbered(a, b.id);
      sendNumbered(b, a.id);
      await b.handler.waitFor('1000 messages at b', () => b.handler.messages.length >= COUNT);
      await a.handler.waitFor('1000 messages at a', () => a.handler.messages.length >= COUNT);
      assertInOrder(b, a.id);
      assertInOrder(a, b.id);
      assert.deepEqual(a.handler.unreachable, []);
      assert.deepEqual(b.handler.unreachable, []);
    } finally {
      await closeAll(members);
    }
  });

  test('three members with 64-bit ids: every pair keeps its order', async () => {
    const ids = [0x8000000000000001n, 0xfffffffffffffffen, 42n];
    const members = await startMembers(ids);
    try {
      for (const from of members) for (const to of members) if (from !== to) sendNumbered(from, to.id);
      for (const member of members) {
        await member.handler.waitFor(`${2 * COUNT} messages at ${member.id}`, () => member.handler.messages.length >= 2 * COUNT);
      }
      for (const to of members) for (const from of members) if (from !== to) assertInOrder(to, from.id);
      for (const member of members) assert.equal(member.handler.messages.length, 2 * COUNT);
    } finally {
      await closeAll(members);
    }
  });

  test('a message for a member the transport does not know is reported unreachable', async () => {
    const members = await startMembers([1n, 2n]);
    try {
      const [a] = members as [TestMember, TestMember];
      a.transport.send([heartbeat(1n, 99n)]);
      await a.handler.waitFor('unreachable 99', () => a.handler.unreachable.includes(99n));
    } finally {
      await closeAll(members);
    }
  });

  test('a peer without a usable URL does not break setPeers; its messages are reported unreachable', async () => {
    const members = await startMembers([1n, 2n]);
    try {
      const [a, b] = members as [TestMember, TestMember];
      a.transport.setPeers([
        { id: 2n, peerUrls: [b.url] },
        { id: 5n, peerUrls: ['https://127.0.0.1:2380', 'not a url'] },
        { id: 6n, peerUrls: [] },
      ]);
      a.transport.send([heartbeat(1n, 5n), heartbeat(1n, 6n), heartbeat(1n, 2n)]);
      await a.handler.waitFor('5 and 6 unreachable', () => a.handler.unreachable.includes(5n) && a.handler.unreachable.includes(6n));
      await b.handler.waitFor('the heartbeat to 2', () => b.handler.messages.length === 1);
    } finally {
      await closeAll(members);
    }
  });

  test('a MsgSnap given to send() is dropped and reported as a failed snapshot', async () => {
    const members = await startMembers([1n, 2n]);
    try {
      const [a, b] = members as [TestMember, TestMember];
      const snap = newMessage({
        type: MessageType.Snap,
        from: 1n,
        to: 2n,
        term: 2n,
        snapshot: { data: new Uint8Array(0), metadata: { index: 5n, term: 2n, confState: { voters: [1n, 2n], learners: [] } } },
      });
      a.transport.send([snap, heartbeat(1n, 2n)]);
      await a.handler.waitFor('snapshot status', () => a.handler.snapshotStatuses.length === 1);
      assert.deepEqual(a.handler.snapshotStatuses, [{ peer: 2n, ok: false }]);
      await b.handler.waitFor('the heartbeat', () => b.handler.messages.length === 1);
      assert.equal(b.handler.messages[0]!.type, MessageType.Heartbeat);
    } finally {
      await closeAll(members);
    }
  });

  test('sending to itself or a local message type is a programmer error', async () => {
    const members = await startMembers([1n, 2n]);
    try {
      const [a] = members as [TestMember, TestMember];
      assert.throws(() => a.transport.send([heartbeat(1n, 1n)]), /self or local/);
      assert.throws(() => a.transport.send([newMessage({ type: MessageType.Hup, from: 1n, to: 2n })]), /self or local/);
    } finally {
      await closeAll(members);
    }
  });

  test('a full per-peer queue drops and reports the peer unreachable', async () => {
    const members = await startMembers([1n, 2n], { maxQueuedMessagesPerPeer: 4 });
    try {
      const [a, b] = members as [TestMember, TestMember];
      // One burst larger than the queue, sent before the stream can drain anything.
      a.transport.send(Array.from({ length: 10 }, (_, i) => numbered(1n, 2n, i)));
      await a.handler.waitFor('unreachable 2', () => a.handler.unreachable.includes(2n));
      a.transport.send([numbered(1n, 2n, 100)]);
      await b.handler.waitFor('a later message', () => b.handler.messages.some((m) => m.index === 100n));
      const indexes = b.handler.messages.map((m) => Number(m.index));
      assert.deepEqual(indexes, [0, 1, 2, 3, 100], 'the first four queued, the rest dropped, order kept');
    } finally {
      await closeAll(members);
    }
  });
});
