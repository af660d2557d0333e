import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Message, NodeId } from '../../src/consensus';
import { silentLogger } from '../../src/log';
import { openStorage, type OpenedStorage } from '../../src/server/bootstrap';
import { defaultConfig, type MemberConfig } from '../../src/server/config';
import { Member } from '../../src/server/member';
import { WatchHub } from '../../src/storage/mvcc/watch';
import type { MvccStore } from '../../src/storage/mvcc';
import type { PeerAddress, PeerTransport } from '../../src/transport/types';

interface SendMark {
  onWire: boolean;
}

/**
 * Delivers messages between in-process members, one immediate later, as node's HTTP/2
 * session writes frames from a native immediate once the running JavaScript returns; it
 * remembers which sends are still waiting for that turn.
 */
export class LoopbackTransport implements PeerTransport {
  private readonly pending: SendMark[] = [];

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

export interface LoopbackMember {
  name: string;
  member: Member;
  store: MvccStore;
  transport: LoopbackTransport;
}

export interface LoopbackCluster {
  members: LoopbackMember[];
  stop(): Promise<void>;
}

/**
 * Members m1..mN in this process, joined by LoopbackTransport (no sockets), with fast ticks.
 * `instrument` sees each member's opened storage before it starts, to wrap its WAL or store;
 * `overrides` change every member's configuration.
 */
export async function startLoopbackCluster(
  size: number,
  instrument: (name: string, opened: OpenedStorage, transport: LoopbackTransport) => void = () => undefined,
  overrides: Partial<MemberConfig> = {},
): Promise<LoopbackCluster> {
  const names = Array.from({ length: size }, (_, i) => `m${i + 1}`);
  const peerUrls = new Map(names.map((name, i) => [name, [`http://127.0.0.1:${40001 + i}`]]));
  const byId = new Map<NodeId, Member>();
  const members: LoopbackMember[] = [];
  const cleanups: Array<() => Promise<void>> = [];
  for (const name of names) {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), `latchkey-loopback-${name}-`));
    const config: MemberConfig = {
      ...defaultConfig(),
      name,
      dataDir,
      initialAdvertisePeerUrls: peerUrls.get(name)!,
      initialCluster: peerUrls,
      heartbeatIntervalMs: 20,
      electionTimeoutMs: 200,
      ...overrides,
    };
    const logger = silentLogger();
    const opened = await openStorage(config, logger);
    const hub = new WatchHub({ history: opened.store, logger, progressIntervalMs: config.watchProgressNotifyIntervalMs });
    const member = new Member(config, opened, opened.store, hub, { nowMs: () => Date.now() }, logger, Math.random);
    const transport = new LoopbackTransport((message) => byId.get(message.to)?.receive(message));
    instrument(name, opened, transport);
    byId.set(member.id, member);
    members.push({ name, member, store: opened.store, transport });
    cleanups.push(async () => {
      await member.stop();
      hub.close();
      await opened.store.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    });
  }
  for (const running of members) {
    running.member.attachTransport(running.transport);
    running.member.start((err) => {
      throw err;
    });
  }
  return {
    members,
    async stop() {
      for (const cleanup of cleanups) await cleanup();
    },
  };
}
