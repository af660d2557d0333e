import * as os from 'node:os';
import { Client, status as GrpcStatus } from '@grpc/grpc-js';
import { MessageType, isLocalMessage, messageTypeName, type Message, type NodeId } from '../consensus';
import type { MemberInfo } from '../api/member-port';
import type { Logger } from '../log';
import { EMPTY_MESSAGE, decodeClusterInfo, decodeInt64List, encodeUint64List } from './codec/peer-codec';
import { KeepAliveBatcher } from './keepalive-batcher';
import { decodeTimeToLiveAnswer, encodeTimeToLiveQuery, type TimeToLiveAnswer, type TimeToLiveQuery } from './codec/lease-time-to-live-codec';
import { identityMetadata } from './peer-metadata';
import { PeerMethod, clientOptions } from './peer-service';
import { PeerServer } from './peer-server';
import { PeerStream } from './peer-stream';
import { peerAddressOf } from './peer-urls';
import type { PeerRemovalHooks } from './removal-hooks';
import { SnapshotSend } from './snapshot-sender';
import { PeerCallError, unaryCall, type OpenCalls } from './unary-call';
import type { PeerAddress, PeerHandler, PeerTransport } from './types';
import { peerChannelCredentials, type PeerTlsSettings } from '../tls/peer-tls';

export interface GrpcPeerTransportOptions {
  /** Size of the data chunks of a snapshot transfer (default 256 KiB). */
  snapshotChunkBytes?: number;
  /** Per-peer bound of messages waiting for the stream (default 4096, as etcd's stream buffer). */
  maxQueuedMessagesPerPeer?: number;
  /** How long a stream may take to be accepted, and the per-URL deadline of fetchClusterInfo (default 2000). */
  dialTimeoutMs?: number;
  /** Deadline of a forwarded lease keepalive (default 5000). */
  requestTimeoutMs?: number;
  /** Deadline of one whole snapshot transfer (default 10 minutes). */
  snapshotTimeoutMs?: number;
  /** Where received snapshots are written before the member takes them (default os.tmpdir()). */
  snapshotDirectory?: string;
  /** Reconnect backoff of a failed stream: first delay and cap (defaults 50 and 2000). */
  backoffInitialMs?: number;
  backoffMaxMs?: number;
  /** Peer TLS: serves https:// listen URLs and dials https:// peers (absent: h2c only). */
  tls?: PeerTlsSettings;
}

const DEFAULTS = {
  snapshotChunkBytes: 256 * 1024,
  maxQueuedMessagesPerPeer: 4096,
  dialTimeoutMs: 2_000,
  requestTimeoutMs: 5_000,
  snapshotTimeoutMs: 10 * 60_000,
  backoffInitialMs: 50,
  backoffMaxMs: 2_000,
};

/**
 * The peer transport over gRPC (DESIGN.md "Peer transport"): a server on the listen URLs,
 * one outbound stream per peer for small frequent messages, a separate call and connection
 * per snapshot transfer, and unary calls for lease keepalive forwarding and cluster info.
 * Handler callbacks that report on sends (onUnreachable, onSnapshotStatus) run on a later
 * microtask, never inside send().
 */
/** A batch is never aborted by one caller; each caller's abort only drops its own wait. */
const NEVER_ABORTED = new AbortController().signal;

export class GrpcPeerTransport implements PeerTransport {
  private readonly logger: Logger;
  private readonly options: Required<Omit<GrpcPeerTransportOptions, 'tls'>>;
  private readonly tls: PeerTlsSettings | undefined;
  private readonly server: PeerServer;
  private readonly streams = new Map<NodeId, PeerStream>();
  private readonly snapshotSends = new Map<NodeId, SnapshotSend>();
  private readonly unaryCalls: OpenCalls = new Set();
  /** Forwarded keepalives, batched per leader (close() cancels the batches through unaryCalls). */
  private readonly keepAlives = new KeepAliveBatcher((leader, ids) => this.sendKeepAliveBatch(leader, ids));
  private closed = false;
  private removedReported = false;

  /** `handler` may also implement PeerRemovalHooks (see removal-hooks.ts). */
  constructor(
    private readonly localId: NodeId,
    private readonly clusterId: bigint,
    private readonly handler: PeerHandler & Partial<PeerRemovalHooks>,
    logger: Logger,
    options: GrpcPeerTransportOptions = {},
  ) {
    this.logger = logger.child({ component: 'transport' });
    const { tls, ...rest } = options;
    this.tls = tls;
    this.options = { ...DEFAULTS, snapshotDirectory: os.tmpdir(), ...rest };
    if (this.options.snapshotChunkBytes < 1 || this.options.snapshotChunkBytes > 16 * 1024 * 1024) {
      throw new Error(`snapshotChunkBytes ${this.options.snapshotChunkBytes} outside 1 B .. 16 MiB`);
    }
    if (this.options.maxQueuedMessagesPerPeer < 1) throw new Error('maxQueuedMessagesPerPeer must be positive');
    // A restarted peer dials us as it starts; our stream to it may be sleeping out a backoff
    // of up to backoffMaxMs, which would keep the peer from hearing its leader that long.
    this.server = new PeerServer(localId, clusterId, handler, this.logger, this.options.snapshotDirectory, tls?.server, (from) => this.streams.get(from)?.redialNow());
  }

  /** Ports bound by start(), in URL order (useful with port 0). */
  get ports(): number[] {
    return this.server.ports;
  }

  async start(listenUrls: string[]): Promise<void> {
    this.assertOpen();
    await this.server.listen(listenUrls);
  }

  setPeers(peers: PeerAddress[]): void {
    this.assertOpen();
    const wanted = new Map<NodeId, string[]>();
    for (const peer of peers) {
      if (peer.id === this.localId) continue;
      const urls = this.usableUrls(peer);
      if (urls.length > 0) wanted.set(peer.id, urls);
    }
    for (const [id, stream] of this.streams) {
      if (wanted.has(id)) continue;
      stream.close();
      this.streams.delete(id);
      this.snapshotSends.get(id)?.cancel();
      this.logger.info({ peer: id.toString(16) }, 'peer removed');
    }
    for (const [id, urls] of wanted) {
      const existing = this.streams.get(id);
      if (existing !== undefined) {
        existing.setUrls(urls);
        continue;
      }
      const stream = new PeerStream(
        id,
        urls,
        { localId: this.localId, clusterId: this.clusterId },
        (peer) => !this.closed && this.handler.onUnreachable(peer),
        this.logger,
        {
          maxQueuedMessages: this.options.maxQueuedMessagesPerPeer,
          dialTimeoutMs: this.options.dialTimeoutMs,
          backoffInitialMs: this.options.backoffInitialMs,
          backoffMaxMs: this.options.backoffMaxMs,
          ...(this.tls === undefined ? {} : { tls: this.tls }),
        },
        () => this.onRemovedFromCluster(id),
        (peer) => !this.closed && this.handler.onPeerRefused?.(peer),
      );
      this.streams.set(id, stream);
      this.logger.info({ peer: id.toString(16), urls }, 'peer added');
    }
  }

  /** A peer without a usable URL is left out (its messages are reported unreachable), not fatal. */
  private usableUrls(peer: PeerAddress): string[] {
    const usable = peer.peerUrls.filter((url) => {
      try {
        peerAddressOf(url);
        return true;
      } catch (err) {
        this.logger.warn({ peer: peer.id.toString(16), url, err: err instanceof Error ? err.message : String(err) }, 'ignoring a peer URL');
        return false;
      }
    });
    if (usable.length === 0) this.logger.warn({ peer: peer.id.toString(16) }, 'peer has no usable URL; it stays unreachable');
    return usable;
  }

  private onRemovedFromCluster(refusedBy: NodeId): void {
    if (this.closed || this.removedReported) return;
    this.removedReported = true;
    this.logger.warn({ peer: refusedBy.toString(16) }, 'a peer says this member was removed from the cluster');
    this.handler.onRemovedFromCluster?.();
  }

  send(messages: Message[]): void {
    if (this.closed) return;
    const touched = new Set<PeerStream>();
    const unreachable = new Set<NodeId>();
    const snapshotFailures: NodeId[] = [];
    for (const message of messages) {
      if (message.to === this.localId || isLocalMessage(message.type)) {
        throw new Error(`transport asked to send ${messageTypeName(message.type)} to ${message.to.toString(16)} (self or local)`);
      }
      if (message.type === MessageType.Snap) {
        this.logger.warn({ peer: message.to.toString(16) }, 'MsgSnap given to send(); snapshots go through sendSnapshot');
        snapshotFailures.push(message.to);
        continue;
      }
      const stream = this.streams.get(message.to);
      if (stream !== undefined && stream.enqueue(message)) touched.add(stream);
      else unreachable.add(message.to);
    }
    for (const stream of touched) stream.flush();
    if (unreachable.size === 0 && snapshotFailures.length === 0) return;
    queueMicrotask(() => {
      if (this.closed) return;
      for (const peer of unreachable) this.handler.onUnreachable(peer);
      for (const peer of snapshotFailures) this.handler.onSnapshotStatus(peer, false);
    });
  }

  sendSnapshot(message: Message, file: string): void {
    if (this.closed) return;
    if (message.type !== MessageType.Snap || message.snapshot === undefined) throw new Error('sendSnapshot needs a MsgSnap with a snapshot');
    const peer = message.to;
    const stream = this.streams.get(peer);
    if (stream === undefined || this.snapshotSends.has(peer)) {
      this.logger.warn({ peer: peer.toString(16), reason: stream === undefined ? 'unknown peer' : 'a transfer is in flight' }, 'snapshot not sent');
      queueMicrotask(() => !this.closed && this.handler.onSnapshotStatus(peer, false));
      return;
    }
    const transfer = new SnapshotSend({
      message,
      file,
      url: stream.preferredUrl,
      identity: { localId: this.localId, clusterId: this.clusterId },
      chunkBytes: this.options.snapshotChunkBytes,
      timeoutMs: this.options.snapshotTimeoutMs,
      ...(this.tls === undefined ? {} : { tls: this.tls }),
    });
    this.snapshotSends.set(peer, transfer);
    const fields = { peer: peer.toString(16), index: message.snapshot.metadata.index.toString() };
    this.logger.info(fields, 'sending snapshot');
    transfer.run().then(
      (bytes) => this.finishSnapshot(transfer, peer, true, { ...fields, bytes: bytes.toString() }),
      (err: unknown) => this.finishSnapshot(transfer, peer, false, { ...fields, err: err instanceof Error ? err.message : String(err) }),
    );
  }

  private finishSnapshot(transfer: SnapshotSend, peer: NodeId, ok: boolean, fields: Record<string, string>): void {
    if (this.snapshotSends.get(peer) === transfer) this.snapshotSends.delete(peer);
    if (this.closed) return;
    if (ok) this.logger.info(fields, 'snapshot sent');
    else this.logger.warn(fields, 'snapshot send failed');
    this.handler.onSnapshotStatus(peer, ok);
  }

  /** Since when the stream to `peer` has been up (ms since the epoch); undefined while it is down. */
  activeSince(peer: NodeId): number | undefined {
    return this.streams.get(peer)?.activeSinceMs();
  }

  async forwardLeaseKeepAlive(leader: NodeId, leaseId: bigint, signal: AbortSignal): Promise<bigint> {
    this.assertOpen();
    if (this.streams.get(leader)?.activeClient === undefined) throw new PeerCallError(`leader ${leader.toString(16)} is unreachable`, GrpcStatus.UNAVAILABLE);
    return this.keepAlives.forward(leader, leaseId, signal);
  }

  async forwardLeaseTimeToLive(leader: NodeId, query: TimeToLiveQuery, signal: AbortSignal): Promise<TimeToLiveAnswer> {
    this.assertOpen();
    const client = this.streams.get(leader)?.activeClient;
    if (client === undefined) throw new PeerCallError(`leader ${leader.toString(16)} is unreachable`, GrpcStatus.UNAVAILABLE);
    const metadata = identityMetadata({ clusterId: this.clusterId, from: this.localId, to: leader });
    const response = await unaryCall(client, PeerMethod.LeaseTimeToLive, encodeTimeToLiveQuery(query), metadata, this.options.requestTimeoutMs, signal, this.unaryCalls);
    return decodeTimeToLiveAnswer(response);
  }

  /** One batched forward: the batch's own deadline; callers' aborts are handled by the batcher. */
  private async sendKeepAliveBatch(leader: NodeId, leaseIds: bigint[]): Promise<bigint[]> {
    this.assertOpen();
    const client = this.streams.get(leader)?.activeClient;
    if (client === undefined) throw new PeerCallError(`leader ${leader.toString(16)} is unreachable`, GrpcStatus.UNAVAILABLE);
    const metadata = identityMetadata({ clusterId: this.clusterId, from: this.localId, to: leader });
    const response = await unaryCall(client, PeerMethod.LeaseKeepAlive, encodeUint64List(leaseIds), metadata, this.options.requestTimeoutMs, NEVER_ABORTED, this.unaryCalls);
    const ttls = decodeInt64List(response);
    // A lone unknown lease comes back as an empty message from a member that encodes single values.
    return ttls.length === 0 && leaseIds.length === 1 ? [0n] : ttls;
  }

  async fetchClusterInfo(peerUrls: string[], signal: AbortSignal): Promise<{ clusterId: bigint; members: MemberInfo[] }> {
    this.assertOpen();
    const failures: string[] = [];
    for (const url of peerUrls) {
      if (signal.aborted) break;
      const client = new Client(peerAddressOf(url), peerChannelCredentials(url, this.tls), clientOptions);
      try {
        const metadata = identityMetadata({ clusterId: this.clusterId, from: this.localId, to: 0n });
        const response = await unaryCall(client, PeerMethod.ClusterInfo, EMPTY_MESSAGE, metadata, this.options.dialTimeoutMs, signal, this.unaryCalls);
        return decodeClusterInfo(response);
      } catch (err) {
        failures.push(`${url}: ${err instanceof Error ? err.message : String(err)}`);
      } finally {
        client.close();
      }
    }
    if (signal.aborted) throw new PeerCallError('cluster info request aborted', GrpcStatus.CANCELLED);
    throw new PeerCallError(`no peer answered with cluster info (${failures.join('; ')})`, GrpcStatus.UNAVAILABLE);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const stream of this.streams.values()) stream.close();
    this.streams.clear();
    for (const transfer of this.snapshotSends.values()) transfer.cancel();
    this.snapshotSends.clear();
    for (const call of this.unaryCalls) call.cancel();
    this.unaryCalls.clear();
    this.server.close();
    this.logger.debug('peer transport closed');
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('peer transport is closed');
  }
}
