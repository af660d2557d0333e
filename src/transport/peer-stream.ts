import { Client, status as GrpcStatus, type ClientDuplexStream, type StatusObject } from '@grpc/grpc-js';
import type { Message, NodeId } from '../consensus';
import type { Logger } from '../log';
import { encodeRaftEnvelope } from './codec/raft-message-codec';
import { MEMBER_REMOVED_DETAILS, identityMetadata } from './peer-metadata';
import { PeerMethod, clientOptions, passBuffer } from './peer-service';
import { peerAddressOf } from './peer-urls';
import { peerChannelCredentials, type PeerTlsSettings } from '../tls/peer-tls';

export interface PeerStreamOptions {
  /** Messages waiting for the stream; beyond this, send drops and reports unreachable. */
  maxQueuedMessages: number;
  /** How long a new stream may take to be accepted before it counts as failed. */
  dialTimeoutMs: number;
  backoffInitialMs: number;
  backoffMaxMs: number;
  /** Credentials for https:// peer URLs (each attempt asks again, so reloaded files apply). */
  tls?: PeerTlsSettings;
}

/** One envelope carries at most this many messages / roughly this many bytes. */
const MAX_BATCH_MESSAGES = 512;
const MAX_BATCH_BYTES = 1024 * 1024;

type StreamState = 'connecting' | 'connected' | 'backoff' | 'closed';

/**
 * A dial the peer's host answered with a reset: no process listens on that port (grpc-js
 * reports it as UNAVAILABLE "... connect ECONNREFUSED ..."). A timeout or a dropped stream
 * is not this: those happen to live members too.
 */
function isConnectionRefused(status: StatusObject): boolean {
  return status.code === GrpcStatus.UNAVAILABLE && status.details.includes('ECONNREFUSED');
}

/** A cheap upper-ish bound of a message's encoded size, for batching only. */
function estimatedBytes(message: Message): number {
  let bytes = 96 + message.context.length;
  for (const entry of message.entries) bytes += 32 + entry.data.length;
  return bytes;
}

/**
 * The sending half towards one peer: a long-lived Peer/Stream call carrying this member's
 * Raft messages in order. Messages queue (bounded) while the stream is connecting or
 * writing; while it is down (backing off between attempts) they are dropped, which the
 * caller reports to Raft as unreachable. A failed stream is retried with exponential
 * backoff, each attempt on a fresh client (and so a fresh connection), rotating through
 * the peer's URLs.
 */
export class PeerStream {
  private state: StreamState = 'backoff';
  /** When the current connection was accepted (Date.now()); undefined while not connected. */
  private connectedAtMs: number | undefined;
  private client: Client | undefined;
  private call: ClientDuplexStream<Buffer, Buffer> | undefined;
  private queue: Message[] = [];
  private writable = true;
  private backoffMs: number;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private dialTimer: NodeJS.Timeout | undefined;
  private urlIndex = 0;
  /** The URL of the last accepted stream: where other calls to this peer go first. */
  private acceptedUrl: string | undefined;
  /** Set once a loss was warned about; cleared when the stream is accepted again. */
  private lossWarned = false;

  constructor(
    readonly peer: NodeId,
    private urls: string[],
    private readonly identity: { localId: NodeId; clusterId: bigint },
    private readonly onUnreachable: (peer: NodeId) => void,
    private readonly logger: Logger,
    private readonly options: PeerStreamOptions,
    /** The peer refused this member as removed from the cluster. */
    private readonly onRemoved: () => void = () => undefined,
    /** Nothing listens at the peer's address (connection refused): its process is gone. */
    private readonly onRefused: (peer: NodeId) => void = () => undefined,
  ) {
    if (urls.length === 0) throw new Error(`peer ${peer.toString(16)} has no URLs`);
    for (const url of urls) peerAddressOf(url);
    this.backoffMs = options.backoffInitialMs;
    this.connect();
  }

  /** The URL most likely to answer: the last one that accepted a stream. */
  get preferredUrl(): string {
    return this.acceptedUrl ?? this.urls[this.urlIndex % this.urls.length]!;
  }

  /** The current client, for unary calls to this peer; undefined while the peer is down. */
  get activeClient(): Client | undefined {
    return this.state === 'connecting' || this.state === 'connected' ? this.client : undefined;
  }

  /** Queues a message; false when it was dropped (stream down or queue full). Call flush() after. */
  enqueue(message: Message): boolean {
    if (this.state !== 'connecting' && this.state !== 'connected') return false;
    if (this.queue.length >= this.options.maxQueuedMessages) return false;
    this.queue.push(message);
    return true;
  }

  /** Writes queued messages as envelopes until the call pushes back. */
  flush(): void {
    const call = this.call;
    while (call !== undefined && this.writable && this.queue.length > 0) {
      const batch = this.takeBatch();
      if (!call.write(encodeRaftEnvelope(batch))) {
        this.writable = false;
        call.once('drain', () => {
          if (call !== this.call) return;
          this.writable = true;
          this.flush();
        });
      }
    }
  }

  private takeBatch(): Message[] {
    let count = 0;
    let bytes = 0;
    while (count < this.queue.length && count < MAX_BATCH_MESSAGES) {
      bytes += estimatedBytes(this.queue[count]!);
      if (count > 0 && bytes > MAX_BATCH_BYTES) break;
      count++;
    }
    if (count === this.queue.length) {
      const batch = this.queue;
      this.queue = [];
      return batch;
    }
    return this.queue.splice(0, count);
  }

  /** New URLs (a member update): reconnect to them at once. */
  setUrls(urls: string[]): void {
    if (urls.length === 0) throw new Error(`peer ${this.peer.toString(16)} has no URLs`);
    if (urls.length === this.urls.length && urls.every((url, i) => url === this.urls[i])) return;
    for (const url of urls) peerAddressOf(url);
    this.urls = urls.slice();
    this.urlIndex = 0;
    this.acceptedUrl = undefined;
    if (this.state === 'closed') return;
    this.teardown();
    this.backoffMs = this.options.backoffInitialMs;
    this.connect();
  }

  /** The peer is known to be up (it just reached us): a stream backing off dials at once. */
  redialNow(): void {
    if (this.state !== 'backoff') return;
    clearTimeout(this.reconnectTimer);
    this.backoffMs = this.options.backoffInitialMs;
    this.connect();
  }

  close(): void {
    if (this.state === 'closed') return;
    this.teardown();
    this.state = 'closed';
    this.queue = [];
  }

  private connect(): void {
    this.reconnectTimer = undefined;
    const url = this.urls[this.urlIndex % this.urls.length]!;
    const client = new Client(peerAddressOf(url), peerChannelCredentials(url, this.options.tls), clientOptions);
    const metadata = identityMetadata({ clusterId: this.identity.clusterId, from: this.identity.localId, to: this.peer });
    const call = client.makeBidiStreamRequest(PeerMethod.Stream, passBuffer, passBuffer, metadata);
    this.client = client;
    this.call = call;
    this.writable = true;
    this.state = 'connecting';
    call.on('data', () => this.onAccepted(call));
    call.on('error', () => undefined); // the 'status' event that follows carries the reason
    call.on('status', (status: StatusObject) => {
      if (call === this.call && status.details === MEMBER_REMOVED_DETAILS) this.onRemoved();
      const refused = call === this.call && isConnectionRefused(status);
      this.fail(call, `stream ended: ${status.details || status.code}`);
      if (refused) this.onRefused(this.peer);
    });
    this.dialTimer = setTimeout(() => this.fail(call, `not accepted within ${this.options.dialTimeoutMs} ms`), this.options.dialTimeoutMs);
    this.flush();
  }

  private onAccepted(call: ClientDuplexStream<Buffer, Buffer>): void {
    if (call !== this.call || this.state !== 'connecting') return;
    clearTimeout(this.dialTimer);
    this.dialTimer = undefined;
    this.state = 'connected';
    this.connectedAtMs = Date.now();
    this.acceptedUrl = this.urls[this.urlIndex % this.urls.length];
    this.backoffMs = this.options.backoffInitialMs;
    if (this.lossWarned) this.logger.info({ peer: this.peer.toString(16) }, 'peer stream restored');
    else this.logger.debug({ peer: this.peer.toString(16) }, 'peer stream connected');
    this.lossWarned = false;
  }

  private fail(call: ClientDuplexStream<Buffer, Buffer>, reason: string): void {
    if (call !== this.call || this.state === 'closed') return;
    const dropped = this.queue.length;
    const wasConnected = this.state === 'connected';
    this.teardown();
    this.queue = [];
    const fields = { peer: this.peer.toString(16), url: this.urls[this.urlIndex % this.urls.length], reason, dropped };
    if (!this.lossWarned) this.logger.warn(fields, wasConnected ? 'lost the stream to a peer' : 'cannot reach a peer');
    else this.logger.debug(fields, 'peer still unreachable');
    this.lossWarned = true;
    this.state = 'backoff';
    this.urlIndex = (this.urlIndex + 1) % this.urls.length;
    this.reconnectTimer = setTimeout(() => this.connect(), this.backoffMs);
    this.backoffMs = Math.min(this.backoffMs * 2, this.options.backoffMaxMs);
    this.onUnreachable(this.peer);
  }

  /** Since when the stream has been up without a break (ms since the epoch), or undefined if it is down. */
  activeSinceMs(): number | undefined {
    return this.state === 'connected' ? this.connectedAtMs : undefined;
  }

  /** Ends the current call and client (if any) and every timer; events from them are ignored after. */
  private teardown(): void {
    this.connectedAtMs = undefined;
    clearTimeout(this.dialTimer);
    clearTimeout(this.reconnectTimer);
    this.dialTimer = undefined;
    this.reconnectTimer = undefined;
    const call = this.call;
    const client = this.client;
    this.call = undefined;
    this.client = undefined;
    call?.cancel();
    client?.close();
  }
}
