import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Message, NodeId } from '../../src/consensus';
import { silentLogger } from '../../src/log';
import { openStorage } from '../../src/server/bootstrap';
import { defaultConfig, type MemberConfig } from '../../src/server/config';
import { KvService } from '../../src/server/kv-service';
import { Member } from '../../src/server/member';
import { WatchHub } from '../../src/storage/mvcc/watch';
import type { MvccStore } from '../../src/storage/mvcc';
import type { PeerAddress, PeerTransport } from '../../src/transport/types';
import { ctx } from './member-harness';

/**
 * Node's HTTP/2 session writes frames to the socket from a native immediate, once the running
 * JavaScript returns. A member that sends and then runs its fdatasync or an LMDB commit in the
 * same turn holds its messages back for that long. This checks the member gives the event loop
 * a turn between handing messages to the transport and its next save or apply: the fake
 * transport below stands for HTTP/2 by marking each send as "on the wire" one immediate later.
 */

interface SendMark {
  onWire: boolean;
}

interface Violation {
  member: string;
  step: 'save' | 'apply';
}

/** Delivers messages in process, one immediate later, and remembers which sends are out. */
class LoopbackTransport implements PeerTransport {
  readonly pending: SendMark[] = [];

  constructor(private readonly deliver: (message: Message) => void) {}

  async start(): Promise<void> {}
  setPeers(_peers: PeerAddress[]): void {}
  send(messages: Message[]): void {
    const mark: SendMark = { onWire: false };
    this.pending.push(mark);
    setImmediate(() => {
      mark.onWire = true;
      for (const message of messages) this.deliver(message);
    });
  }
  sendSnapshot(): void {
    throw new Error('no snapshots in this test');
  }
  forwardLeaseKeepAlive(): Promise<bigint> {
    return Promise.reject(new Error('no leases in this test'));
  }
  forwardLeaseTimeToLive(): never {
    throw new Error('no leases in this test');
  }
  fetchClusterInfo(): never {
    throw new Error('no discovery in this test');
  }
  async close(): Promise<void> {}

  /** True when a message handed over earlier has not had its immediate yet. */
  holdsBack(): boolean {
    return this.pending.some((mark) => !mark.onWire);
  }
}

interface RunningMember {
  name: string;
  member: Member;
  store: MvccStore;
  hub: WatchHub;
  transport: LoopbackTransport;
  dataDir: string;
}

describe('a member puts its messages on the wire before it syncs or applies', () => {
  const names = ['m1', 'm2', 'm3'];
  const members: RunningMember[] = [];
  const violations: Violation[] = [];
  const counts = { save: 0, apply: 0 };

  before(async () => {
    const peerUrls = new Map(names.map((name, i) => [name, [`http://127.0.0.1:${40001 + i}`]]));
    const byId = new Map<NodeId, Member>();
    for (const name of names) {
      const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), `latchkey-send-${name}-`));
      const config: MemberConfig = {
        ...defaultConfig(),
        name,
        dataDir,
        initialAdvertisePeerUrls: peerUrls.get(name)!,
        initialCluster: peerUrls,
        heartbeatIntervalMs: 20,
        electionTimeoutMs: 200,
      };
      const logger = silentLogger();
      const opened = await openStorage(config, logger);
      const hub = new WatchHub({ history: opened.store, logger, progressIntervalMs: config.watchProgressNotifyIntervalMs });
      const member = new Member(config, opened, opened.store, hub, { nowMs: () => Date.now() }, logger, Math.random);
      const transport = new LoopbackTransport((message) => byId.get(message.to)?.receive(message));
      // Every save and apply checks that nothing this member sent is still held back.
      const save = opened.wal.save.bind(opened.wal);
      opened.wal.save = (...args: Parameters<typeof save>) => {
        counts.save++;
        if (transport.holdsBack()) violations.push({ member: name, step: 'save' });
        return save(...args);
      };
      const write = opened.store.write.bind(opened.store);
      opened.store.write = <T>(apply: Parameters<typeof write<T>>[0]): T => {
        counts.apply++;
        if (transport.holdsBack()) violations.push({ member: name, step: 'apply' });
        return write(apply);
      };
      byId.set(member.id, member);
      members.push({ name, member, store: opened.store, hub, transport, dataDir });
    }
    for (const running of members) {
      running.member.attachTransport(running.transport);
      running.member.start((err) => {
        throw err;
      });
    }
  });

  after(async () => {
    for (const running of members) {
      await running.member.stop();
      running.hub.close();
      await running.store.close();
      fs.rmSync(running.dataDir, { recursive: true, force: true });
    }
  });

  test('20 puts through each member: no save or apply while a send waits for its turn', async () => {
    for (const running of members) {
      const kv = new KvService(running.member);
      for (let i = 0; i < 20; i++) {
        await kv.put({ key: Buffer.from(`${running.name}/${i}`), value: Buffer.from('v'), lease: 0n, prevKv: false, ignoreValue: false, ignoreLease: false }, ctx);
      }
    }
    // Each put is saved by three WALs and applied by the members that learned its commit.
    assert.ok(counts.save >= 60, `only ${counts.save} WAL saves`);
    assert.ok(counts.apply >= 60, `only ${counts.apply} applies`);
    assert.deepEqual(violations, []);
  });
});
