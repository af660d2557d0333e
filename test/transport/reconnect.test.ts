import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { GrpcPeerTransport } from '../../src/transport';
import { freePorts } from '../support/ports';
import { RecordingHandler, heartbeat, makeMember, numbered, url, type TestMember } from './harness';

const RESUME_WITHIN_MS = 6_000;

/** Sends a heartbeat every 20 ms until `member` receives one from `from`; returns how long it took. */
async function heartbeatUntilDelivered(sender: TestMember, receiver: TestMember): Promise<number> {
  const started = Date.now();
  const timer = setInterval(() => sender.transport.send([heartbeat(sender.id, receiver.id)]), 20);
  try {
    await receiver.handler.waitFor('a heartbeat after the peer came up', () => receiver.handler.messagesFrom(sender.id).length > 0, RESUME_WITHIN_MS);
  } finally {
    clearInterval(timer);
  }
  return Date.now() - started;
}

describe('unreachable peers', () => {
  test('messages to a peer that is down are dropped and reported; delivery resumes once it starts', async () => {
    const [portA, portB] = (await freePorts(2)) as [number, number];
    const a = makeMember(1n, portA);
    const b = makeMember(2n, portB);
    try {
      await a.transport.start([a.url]);
      a.transport.setPeers([
        { id: 1n, peerUrls: [a.url] },
        { id: 2n, peerUrls: [b.url] },
      ]);
      a.transport.send([heartbeat(1n, 2n)]);
      await a.handler.waitFor('peer 2 reported unreachable', () => a.handler.unreachable.includes(2n));
      const reportsBefore = a.handler.unreachable.length;
      a.transport.send([heartbeat(1n, 2n)]);
      await a.handler.waitFor('another report while down', () => a.handler.unreachable.length > reportsBefore);

      await b.transport.start([b.url]);
      const tookMs = await heartbeatUntilDelivered(a, b);
      assert.ok(tookMs < RESUME_WITHIN_MS, `resumed after ${tookMs} ms`);

      const firstIndex = b.handler.messages.length;
      a.transport.send(Array.from({ length: 100 }, (_, i) => numbered(1n, 2n, i)));
      await b.handler.waitFor('100 messages after reconnecting', () => b.handler.messages.length >= firstIndex + 100);
      const indexes = b.handler.messages.slice(firstIndex).filter((m) => m.entries.length > 0).map((m) => Number(m.index));
      assert.deepEqual(indexes, Array.from({ length: 100 }, (_, i) => i));
    } finally {
      await a.transport.close();
      await b.transport.close();
    }
  });

  test('a peer that restarts is reconnected to', async () => {
    const [portA, portB] = (await freePorts(2)) as [number, number];
    const a = makeMember(1n, portA);
    let b = makeMember(2n, portB);
    try {
      for (const member of [a, b]) await member.transport.start([member.url]);
      const peers = [
        { id: 1n, peerUrls: [a.url] },
        { id: 2n, peerUrls: [b.url] },
      ];
      a.transport.setPeers(peers);
      b.transport.setPeers(peers);
      await heartbeatUntilDelivered(a, b);
      assert.deepEqual(a.handler.unreachable, []);

      await b.transport.close();
      await a.handler.waitFor('loss of peer 2 reported', () => a.handler.unreachable.includes(2n));

      b = makeMember(2n, portB);
      await b.transport.start([b.url]);
      b.transport.setPeers(peers);
      await heartbeatUntilDelivered(a, b);
    } finally {
      await a.transport.close();
      await b.transport.close();
    }
  });

  test('a stream backing off towards a peer redials as soon as that peer reaches us', async () => {
    const [portA, portB] = (await freePorts(2)) as [number, number];
    // A minute of backoff: only the peer's own stream arriving can bring A's stream back in time.
    const a = makeMember(1n, portA, undefined, { backoffInitialMs: 60_000, backoffMaxMs: 60_000 });
    const b = makeMember(2n, portB);
    const peers = [
      { id: 1n, peerUrls: [a.url] },
      { id: 2n, peerUrls: [b.url] },
    ];
    try {
      await a.transport.start([a.url]);
      a.transport.setPeers(peers);
      a.transport.send([heartbeat(1n, 2n)]);
      await a.handler.waitFor('peer 2 reported unreachable', () => a.handler.unreachable.includes(2n));

      await b.transport.start([b.url]);
      b.transport.setPeers(peers);
      const tookMs = await heartbeatUntilDelivered(a, b);
      assert.ok(tookMs < RESUME_WITHIN_MS, `resumed after ${tookMs} ms`);
    } finally {
      await a.transport.close();
      await b.transport.close();
    }
  });

  test('a lost connection is warned about once, not once per attempt or message', async () => {
    const [portA, portB] = (await freePorts(2)) as [number, number];
    const lines: { level: number; msg: string; component?: string }[] = [];
    const logger = pino({ level: 'debug' }, { write: (line: string) => lines.push(JSON.parse(line)) });
    const handler = new RecordingHandler(7n);
    const transport = new GrpcPeerTransport(1n, 7n, handler, logger, { backoffInitialMs: 10, backoffMaxMs: 40 });
    try {
      await transport.start([url(portA)]);
      transport.setPeers([{ id: 2n, peerUrls: [url(portB)] }]);
      // Enough time for several failed attempts (backoff 10 → 40 ms), with a message stream on top.
      const timer = setInterval(() => transport.send([heartbeat(1n, 2n)]), 5);
      await handler.waitFor('several reports', () => handler.unreachable.length >= 20);
      clearInterval(timer);
      const attempts = lines.filter((l) => l.msg === 'peer still unreachable').length;
      const warnings = lines.filter((l) => l.level === 40);
      assert.ok(attempts >= 2, `${attempts} retries logged at debug`);
      assert.equal(warnings.length, 1, JSON.stringify(warnings));
      assert.equal(warnings[0]!.msg, 'cannot reach a peer');
      assert.equal(warnings[0]!.component, 'transport');
    } finally {
      await transport.close();
    }
  });

  test('a peer whose first URL is dead is reached through its second', async () => {
    const [portA, portB, deadPort] = (await freePorts(3)) as [number, number, number];
    const a = makeMember(1n, portA);
    const b = makeMember(2n, portB);
    try {
      for (const member of [a, b]) await member.transport.start([member.url]);
      a.transport.setPeers([{ id: 2n, peerUrls: [url(deadPort), b.url] }]);
      await heartbeatUntilDelivered(a, b);
    } finally {
      for (const member of [a, b]) await member.transport.close();
    }
  });

  test('a peer that moves to a new URL is followed when setPeers says so', async () => {
    const [portA, portB, portB2] = (await freePorts(3)) as [number, number, number];
    const a = makeMember(1n, portA);
    let b = makeMember(2n, portB);
    try {
      for (const member of [a, b]) await member.transport.start([member.url]);
      a.transport.setPeers([{ id: 2n, peerUrls: [b.url] }]);
      await heartbeatUntilDelivered(a, b);
      await b.transport.close();
      b = makeMember(2n, portB2);
      await b.transport.start([b.url]);
      a.transport.setPeers([{ id: 2n, peerUrls: [b.url] }]);
      await heartbeatUntilDelivered(a, b);
    } finally {
      for (const member of [a, b]) await member.transport.close();
    }
  });

  test('setPeers drops a removed peer and adds a new one', async () => {
    const [portA, portB, portC] = (await freePorts(3)) as [number, number, number];
    const a = makeMember(1n, portA);
    const b = makeMember(2n, portB);
    const c = makeMember(3n, portC);
    try {
      for (const member of [a, b, c]) await member.transport.start([member.url]);
      a.transport.setPeers([{ id: 2n, peerUrls: [b.url] }]);
      await heartbeatUntilDelivered(a, b);
      a.transport.setPeers([{ id: 3n, peerUrls: [c.url] }]);
      a.transport.send([heartbeat(1n, 2n)]);
      await a.handler.waitFor('removed peer reported unreachable', () => a.handler.unreachable.includes(2n));
      await heartbeatUntilDelivered(a, c);
    } finally {
      for (const member of [a, b, c]) await member.transport.close();
    }
  });
});
