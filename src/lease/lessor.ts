import type { Event } from '../storage/mvcc/types';
import { EventType } from '../storage/mvcc/types';
import { keyBytes, keyText, type Lease } from './lease';

export const MAX_LEASE_TTL_SECONDS = 9_000_000_000n;

/**
 * In-memory lease table. Grants and revocations arrive through Raft apply (every member);
 * expiry deadlines are only live on the leader (`promote`), so only the leader decides that
 * a lease expired and proposes its revocation. Key attachment follows applied events.
 */
export class Lessor {
  private readonly leases = new Map<bigint, Lease>();
  private primary = false;

  constructor(private readonly minTtlSeconds: bigint) {}

  /** The TTL etcd grants for a request: raised to the minimum. */
  effectiveTtl(requestedSeconds: bigint): bigint {
    return requestedSeconds < this.minTtlSeconds ? this.minTtlSeconds : requestedSeconds;
  }

  has(id: bigint): boolean {
    return this.leases.has(id);
  }

  get(id: bigint): Lease | undefined {
    return this.leases.get(id);
  }

  isPrimary(): boolean {
    return this.primary;
  }

  grant(id: bigint, ttlSeconds: bigint, nowMs: number, remainingSeconds = 0n): Lease {
    if (this.leases.has(id)) throw new Error(`lease ${id} granted twice`);
    const ttl = this.effectiveTtl(ttlSeconds);
    const lease: Lease = { id, ttlSeconds: ttl, expiryMs: Infinity, checkpointSeconds: remainingSeconds, keys: new Set() };
    if (this.primary) lease.expiryMs = nowMs + Number(remainingSeconds > 0n ? remainingSeconds : ttl) * 1000;
    this.leases.set(id, lease);
    return lease;
  }

  revoke(id: bigint): void {
    this.leases.delete(id);
  }

  /**
   * KeepAlive on the leader: the granted TTL, or 0 if the lease is gone. `hadCheckpoint`
   * says the cluster still holds an older remaining TTL, which the caller must clear
   * through Raft (else a new leader would expire the lease too early).
   */
  renew(id: bigint, nowMs: number): { ttlSeconds: bigint; hadCheckpoint: boolean } {
    const lease = this.leases.get(id);
    if (lease === undefined || lease.expiryMs <= nowMs) return { ttlSeconds: 0n, hadCheckpoint: false };
    lease.expiryMs = nowMs + Number(lease.ttlSeconds) * 1000;
    return { ttlSeconds: lease.ttlSeconds, hadCheckpoint: lease.checkpointSeconds > 0n };
  }

  /** An applied LeaseCheckpoint: the remaining TTL the next leader starts from (0 = full). */
  checkpoint(id: bigint, remainingSeconds: bigint): void {
    const lease = this.leases.get(id);
    if (lease !== undefined) lease.checkpointSeconds = remainingSeconds;
  }

  /** The leader's view of every lease's remaining TTL, rounded up, for a checkpoint proposal. */
  remainingForCheckpoint(nowMs: number, limit: number): Array<{ leaseId: bigint; remainingSeconds: bigint }> {
    if (!this.primary) return [];
    const out: Array<{ leaseId: bigint; remainingSeconds: bigint }> = [];
    for (const lease of this.leases.values()) {
      if (out.length >= limit) break;
      if (lease.expiryMs === Infinity || lease.expiryMs <= nowMs) continue;
      const remaining = BigInt(Math.ceil((lease.expiryMs - nowMs) / 1000));
      if (remaining < lease.ttlSeconds || lease.checkpointSeconds > 0n) out.push({ leaseId: lease.id, remainingSeconds: remaining });
    }
    return out;
  }

  /** Remaining whole seconds (rounded down, as etcd), or -1 for unknown or expired. */
  remainingSeconds(id: bigint, nowMs: number): bigint {
    const lease = this.leases.get(id);
    if (lease === undefined) return -1n;
    if (lease.expiryMs === Infinity) return lease.checkpointSeconds > 0n ? lease.checkpointSeconds : lease.ttlSeconds;
    const remainingMs = lease.expiryMs - nowMs;
    return remainingMs <= 0 ? -1n : BigInt(Math.floor(remainingMs / 1000));
  }

  keysOf(id: bigint): Buffer[] {
    const lease = this.leases.get(id);
    return lease === undefined ? [] : [...lease.keys].sort().map(keyBytes);
  }

  ids(): bigint[] {
    return [...this.leases.keys()];
  }

  /** Keeps lease → keys in step with applied writes: a put moves its key, a delete frees it. */
  observe(events: readonly Event[]): void {
    for (const event of events) {
      const previous = event.prevKv?.lease ?? 0n;
      const next = event.type === EventType.PUT ? event.kv.lease : 0n;
      if (previous === next) continue;
      const text = keyText(event.kv.key);
      if (previous !== 0n) this.leases.get(previous)?.keys.delete(text);
      if (next !== 0n) this.leases.get(next)?.keys.add(text);
    }
  }

  attach(id: bigint, key: Buffer): void {
    this.leases.get(id)?.keys.add(keyText(key));
  }

  /**
   * Becoming leader: every lease gets the remaining TTL last checkpointed through Raft (its
   * full TTL if none) plus `extendMs` (one election timeout) before anything may expire, so
   * a leader change neither revives a lease nor kills it early.
   */
  promote(nowMs: number, extendMs: number): void {
    this.primary = true;
    for (const lease of this.leases.values()) {
      const remaining = lease.checkpointSeconds > 0n ? lease.checkpointSeconds : lease.ttlSeconds;
      lease.expiryMs = nowMs + Number(remaining) * 1000 + extendMs;
    }
  }

  demote(): void {
    this.primary = false;
    for (const lease of this.leases.values()) lease.expiryMs = Infinity;
  }

  /** Leases past their deadline, oldest first, at most `limit` (revocations are rate-limited). */
  expired(nowMs: number, limit: number): bigint[] {
    if (!this.primary) return [];
    const due: Lease[] = [];
    for (const lease of this.leases.values()) if (lease.expiryMs <= nowMs) due.push(lease);
    due.sort((a, b) => a.expiryMs - b.expiryMs);
    return due.slice(0, limit).map((l) => l.id);
  }

  /** The earliest deadline still ahead of `nowMs` (Infinity if none, or not the leader). */
  nextExpiryAfter(nowMs: number): number {
    if (!this.primary) return Infinity;
    let next = Infinity;
    for (const lease of this.leases.values()) if (lease.expiryMs > nowMs && lease.expiryMs < next) next = lease.expiryMs;
    return next;
  }

  /** Forgets every lease (the state machine was replaced by a snapshot; reload follows). */
  clear(): void {
    this.leases.clear();
  }

  size(): number {
    return this.leases.size;
  }
}
