import { EventEmitter } from 'node:events';
import type * as grpc from '@grpc/grpc-js';
import type { Connection } from './connection';
import { ClientError, LeaseLostError, LeaseNotFoundError, toEtcdError } from './errors';
import { decodeHeader, ResponseHeader, toBigInt } from './kv';
import type { Wire } from './proto';

export interface LeaseGrantResult {
  header: ResponseHeader;
  id: bigint;
  /** The effective TTL (the server raises TTLs below its minimum). */
  ttlSeconds: number;
}

export interface LeaseTimeToLiveResult {
  header: ResponseHeader;
  id: bigint;
  /** Remaining seconds; -1 when the lease does not exist. */
  ttlSeconds: number;
  grantedTtlSeconds: number;
  keys: Buffer[];
}

/** The Lease service calls. */
export class LeaseClient {
  /** Leases with a running keepalive, released when the client closes. */
  private readonly live = new Set<Lease>();

  constructor(private readonly connection: Connection) {}

  /** Stops every keepalive started here (client shutdown); leases expire on the server. */
  releaseAll(): void {
    for (const lease of this.live) lease.release();
    this.live.clear();
  }

  /** LeaseGrant; `id` 0n lets the server pick. */
  async grant(ttlSeconds: number, id = 0n): Promise<LeaseGrantResult> {
    const wire = await this.connection.unary('Lease', 'LeaseGrant', { TTL: String(ttlSeconds), ID: String(id) }, { idempotent: false });
    return { header: decodeHeader(wire.header), id: toBigInt(wire.ID), ttlSeconds: Number(toBigInt(wire.TTL)) };
  }

  /** LeaseRevoke: deletes every attached key. Throws LeaseNotFoundError for an unknown lease. */
  async revoke(id: bigint): Promise<ResponseHeader> {
    const wire = await this.connection.unary('Lease', 'LeaseRevoke', { ID: String(id) }, { idempotent: false });
    return decodeHeader(wire.header);
  }

  async timeToLive(id: bigint, keys = false): Promise<LeaseTimeToLiveResult> {
    const wire = await this.connection.unary('Lease', 'LeaseTimeToLive', { ID: String(id), keys }, { idempotent: true });
    return {
      header: decodeHeader(wire.header),
      id: toBigInt(wire.ID),
      ttlSeconds: Number(toBigInt(wire.TTL)),
      grantedTtlSeconds: Number(toBigInt(wire.grantedTTL)),
      keys: (wire.keys ?? []).map((key: Uint8Array) => Buffer.from(key)),
    };
  }

  async leases(): Promise<bigint[]> {
    const wire = await this.connection.unary('Lease', 'LeaseLeases', {}, { idempotent: true });
    return (wire.leases ?? []).map((lease: Wire) => toBigInt(lease.ID));
  }

  /** Grants a lease and keeps it alive until revoke() or release(). */
  async lease(ttlSeconds: number, options: { id?: bigint; keepAlive?: boolean } = {}): Promise<Lease> {
    const granted = await this.grant(ttlSeconds, options.id ?? 0n);
    return this.attach(granted.id, granted.ttlSeconds, options.keepAlive !== false);
  }

  /** A Lease handle for an already granted lease (e.g. from another process). */
  attach(id: bigint, ttlSeconds: number, keepAlive = true): Lease {
    const lease = new Lease(this.connection, this, id, ttlSeconds);
    if (keepAlive) lease.keepAlive();
    this.live.add(lease);
    lease.once('lost', () => this.live.delete(lease));
    return lease;
  }
}

/**
 * A granted lease with its keepalive. Renewal: one `{ID}` on a LeaseKeepAlive stream, again
 * TTL/3 after each reply (as the Go client). The lease counts as lost — `lost` is emitted
 * once, with a LeaseLostError — when a reply says TTL <= 0 (expired or revoked), when no
 * reply came within TTL of the last renewal, or when revoke() is called. A broken stream
 * is reopened (on the next endpoint) with backoff until then. Emits `renewed` (ttlSeconds).
 */
export class Lease extends EventEmitter {
  private stream: grpc.ClientDuplexStream<Wire, Wire> | undefined;
  private endpointIndex = 0;
  private renewTimer: NodeJS.Timeout | undefined;
  private watchdogTimer: NodeJS.Timeout | undefined;
  private lastRenewedAtMs: number;
  private ttlMs: number;
  private reconnectAttempt = 0;
  private running = false;
  private lostError: LeaseLostError | undefined;
  /** Resolves with the reason once the lease is lost. */
  readonly whenLost: Promise<LeaseLostError>;
  private resolveLost!: (error: LeaseLostError) => void;

  constructor(
    private readonly connection: Connection,
    private readonly leases: LeaseClient,
    readonly id: bigint,
    readonly ttlSeconds: number,
  ) {
    super();
    this.ttlMs = ttlSeconds * 1000;
    this.lastRenewedAtMs = Date.now();
    this.whenLost = new Promise((resolve) => (this.resolveLost = resolve));
  }

  get isLost(): boolean {
    return this.lostError !== undefined;
  }

  get lostReason(): LeaseLostError | undefined {
    return this.lostError;
  }

  /** Starts renewing (idempotent). */
  keepAlive(): void {
    if (this.running || this.isLost) return;
    this.running = true;
    this.lastRenewedAtMs = Date.now();
    this.armWatchdog();
    this.openStream();
  }

  /** Stops renewing without revoking: the lease expires on the server after its TTL. */
  release(): void {
    this.running = false;
    clearTimeout(this.renewTimer);
    clearTimeout(this.watchdogTimer);
    this.renewTimer = undefined;
    this.watchdogTimer = undefined;
    this.dropStream();
  }

  /** Stops renewing and revokes (its keys are deleted); an already-gone lease is fine. */
  async revoke(): Promise<void> {
    this.release();
    try {
      await this.leases.revoke(this.id);
    } catch (error) {
      if (!(error instanceof LeaseNotFoundError)) throw error;
    }
    this.markLost('revoked');
  }

  private openStream(): void {
    if (!this.running || this.connection.isClosed) return;
    const { stream, endpointIndex } = this.connection.openStream('Lease', 'LeaseKeepAlive');
    this.stream = stream;
    this.endpointIndex = endpointIndex;
    stream.on('data', (wire: Wire) => {
      if (this.stream === stream) this.onReply(wire);
    });
    stream.on('error', (error: Error) => {
      if (this.stream === stream) this.onStreamBroken(error);
    });
    stream.on('end', () => {
      if (this.stream === stream) this.onStreamBroken(new ClientError('keepalive stream ended by the server'));
    });
    this.sendKeepAlive();
  }

  private sendKeepAlive(): void {
    this.renewTimer = undefined;
    this.stream?.write({ ID: String(this.id) });
  }

  private onReply(wire: Wire): void {
    if (!this.running) return;
    const ttlSeconds = Number(toBigInt(wire.TTL));
    if (ttlSeconds <= 0) {
      this.release();
      this.markLost('expired');
      return;
    }
    this.reconnectAttempt = 0;
    this.lastRenewedAtMs = Date.now();
    this.ttlMs = ttlSeconds * 1000;
    this.armWatchdog();
    clearTimeout(this.renewTimer);
    this.renewTimer = setTimeout(() => this.sendKeepAlive(), Math.max(this.ttlMs / 3, 100));
    this.emit('renewed', ttlSeconds);
  }

  private onStreamBroken(error: Error): void {
    const etcdError = toEtcdError(error);
    this.dropStream();
    this.connection.failedOver(this.endpointIndex);
    if (!this.running) return;
    clearTimeout(this.renewTimer);
    // The watchdog bounds the retries: at TTL without a renewal the lease is declared lost.
    this.renewTimer = setTimeout(() => {
      this.renewTimer = undefined;
      this.openStream();
    }, this.connection.backoffDelayMs(this.reconnectAttempt++));
    this.emit('disconnected', etcdError);
  }

  /** Fires at lastRenewed + TTL; a renewal re-arms it. */
  private armWatchdog(): void {
    clearTimeout(this.watchdogTimer);
    const remainingMs = this.lastRenewedAtMs + this.ttlMs - Date.now();
    this.watchdogTimer = setTimeout(() => {
      if (Date.now() - this.lastRenewedAtMs < this.ttlMs) return this.armWatchdog();
      this.release();
      this.markLost('timeout');
    }, Math.max(remainingMs, 0));
  }

  private dropStream(): void {
    const stream = this.stream;
    this.stream = undefined;
    if (stream === undefined) return;
    stream.on('error', () => undefined);
    stream.end();
    stream.cancel();
  }

  private markLost(reason: LeaseLostError['reason']): void {
    if (this.lostError !== undefined) return;
    this.lostError = new LeaseLostError(this.id, reason);
    this.resolveLost(this.lostError);
    this.emit('lost', this.lostError);
  }
}
