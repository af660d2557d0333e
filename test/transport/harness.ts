import * as fs from 'node:fs';
import { MessageType, newMessage, type Message, type NodeId } from '../../src/consensus';
import type { MemberInfo } from '../../src/api/member-port';
import { silentLogger } from '../../src/log';
import { GrpcPeerTransport, type GrpcPeerTransportOptions, type PeerHandler, type PeerRemovalHooks, type TimeToLiveAnswer, type TimeToLiveQuery } from '../../src/transport';
import { freePorts } from '../support/ports';

const DEFAULT_WAIT_MS = 10_000;

/** A PeerHandler that records everything and lets a test await a condition. */
export class RecordingHandler implements PeerHandler, PeerRemovalHooks {
  readonly messages: Message[] = [];
  readonly unreachable: NodeId[] = [];
  readonly snapshotStatuses: { peer: NodeId; ok: boolean }[] = [];
  readonly snapshots: { message: Message; file: string; bytes: Buffer }[] = [];
  readonly leaseTtls = new Map<bigint, bigint>();
  clusterMembers: MemberInfo[] = [];
  /** Ids this member treats as removed from the cluster (PeerRemovalHooks). */
  readonly removedIds = new Set<NodeId>();
  removedReports = 0;
  /** Replaced by tests that want a slow or failing member. */
  takeSnapshot: (message: Message, file: string) => Promise<void> = async (message, file) => {
    const bytes = await fs.promises.readFile(file);
    await fs.promises.rm(file);
    this.snapshots.push({ message, file, bytes });
  };
  private readonly waiters = new Set<() => void>();

  constructor(readonly clusterId: bigint) {}

  onRaftMessage(message: Message): void {
    this.messages.push(message);
    this.notify();
  }

  async onSnapshot(message: Message, file: string): Promise<void> {
    try {
      await this.takeSnapshot(message, file);
    } finally {
      this.notify();
    }
  }

  onUnreachable(peer: NodeId): void {
    this.unreachable.push(peer);
    this.notify();
  }

  onSnapshotStatus(peer: NodeId, ok: boolean): void {
    this.snapshotStatuses.push({ peer, ok });
    this.notify();
  }

  async leaseKeepAlive(leaseId: bigint): Promise<bigint> {
    return this.leaseTtls.get(leaseId) ?? 0n;
  }

  /** Answers from leaseTtls (remaining = granted - 1, key `k<id>`); unknown leases as -1. */
  leaseTimeToLive(query: TimeToLiveQuery): TimeToLiveAnswer {
    const granted = this.leaseTtls.get(query.leaseId);
    if (granted === undefined) return { ttlSeconds: -1n, grantedTtlSeconds: 0n, keys: [] };
    return { ttlSeconds: granted - 1n, grantedTtlSeconds: granted, keys: query.withKeys ? [Buffer.from(`k${query.leaseId}`), Buffer.alloc(0)] : [] };
  }

  clusterInfo(): { clusterId: bigint; members: MemberInfo[] } {
    return { clusterId: this.clusterId, members: this.clusterMembers };
  }

  isMemberRemoved(peer: NodeId): boolean {
    return this.removedIds.has(peer);
  }

  onRemovedFromCluster(): void {
    this.removedReports++;
    this.notify();
  }

  messagesFrom(peer: NodeId): Message[] {
    return this.messages.filter((m) => m.from === peer);
  }

  /** Resolves once `condition` holds (checked on every handler event and every 20 ms). */
  waitFor(what: string, condition: () => boolean, timeoutMs = DEFAULT_WAIT_MS): Promise<void> {
    if (condition()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const check = (): void => {
        if (!condition()) return;
        cleanup();
        resolve();
      };
      const poll = setInterval(check, 20);
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
      }, timeoutMs);
      const cleanup = (): void => {
        clearInterval(poll);
        clearTimeout(timer);
        this.waiters.delete(check);
      };
      this.waiters.add(check);
    });
  }

  private notify(): void {
    for (const waiter of [...this.waiters]) waiter();
  }
}

export interface TestMember {
  id: NodeId;
  url: string;
  handler: RecordingHandler;
  transport: GrpcPeerTransport;
}

export function url(port: number): string {
  return `http://127.0.0.1:${port}`;
}

/** Builds one transport (not started). */
export function makeMember(id: NodeId, port: number, clusterId = 0x1234n, options: GrpcPeerTransportOptions = {}): TestMember {
  const handler = new RecordingHandler(clusterId);
  const transport = new GrpcPeerTransport(id, clusterId, handler, silentLogger(), { dialTimeoutMs: 2_000, ...options });
  return { id, url: url(port), handler, transport };
}

/** `ids.length` started transports on fresh loopback ports, each knowing all the others. */
export async function startMembers(ids: NodeId[], options: GrpcPeerTransportOptions = {}, clusterId = 0x1234n): Promise<TestMember[]> {
  const ports = await freePorts(ids.length);
  const members = ids.map((id, i) => makeMember(id, ports[i]!, clusterId, options));
  for (const member of members) await member.transport.start([member.url]);
  const addresses = members.map((m) => ({ id: m.id, peerUrls: [m.url] }));
  for (const member of members) member.transport.setPeers(addresses);
  return members;
}

export async function closeAll(members: TestMember[]): Promise<void> {
  await Promise.all(members.map((m) => m.transport.close()));
}

/** The i-th message of a numbered sequence: its index says where it belongs. */
export function numbered(from: NodeId, to: NodeId, index: number): Message {
  return newMessage({
    type: MessageType.App,
    from,
    to,
    term: 3n,
    index: BigInt(index),
    logTerm: 3n,
    commit: BigInt(index),
    entries: [{ term: 3n, index: BigInt(index + 1), type: 0, data: Buffer.from(`entry-${index}`) }],
  });
}

export function heartbeat(from: NodeId, to: NodeId, commit = 0n): Message {
  return newMessage({ type: MessageType.Heartbeat, from, to, term: 3n, commit });
}
