import { EventEmitter } from 'node:events';
import { EtcdRpc, Wire } from './etcd-rpc';
import { ExecutionError, ResourceLockedError } from './errors';
import { runAttempts } from './attempts';
import { Lock } from './lock';
import { HeldResource, stillHeldCompare, tryLockResource, unlockResource } from './resource-mutex';
import {
  ExecutionResult,
  Settings,
  assertIntegerDuration,
  defaultSettings,
  driftMs,
  leaseTtlSeconds,
  mergeSettings,
} from './settings';
import { runUsing, UsingRoutine } from './using';

/**
 * The API of the `redlock` npm package (v5) backed by latchkey (or etcd) leases and
 * mutexes, so a service swaps one import:
 *
 *   SET key val NX PX ms     ↔ LeaseGrant(ceil(ms/1000) s) + mutex key `redlock/<resource>/<lease>`
 *   Lua compare-and-delete   ↔ Txn CREATE(key)==token → delete, then LeaseRevoke
 *   PEXPIRE (extend script)  ↔ LeaseKeepAlive (or moving the keys to a longer lease)
 *
 * A lock's lease is NOT kept alive in the background: like a Redis key with PX, it lapses
 * `duration` after acquisition unless extended (by hand or by `using`). Unlike Redis, each
 * holder gets a fencing token (`lock.fencingToken`) and `lock.fencedPut` refuses writes from
 * a holder whose lease has lapsed.
 */
export class Redlock extends EventEmitter {
  readonly clients: Set<EtcdRpc>;
  readonly settings: Settings;
  private readonly client: EtcdRpc;
  private readonly ownsClient: boolean;

  /** `endpoints`: "host:port" (comma list allowed), a list of them, or an EtcdRpc to share. */
  constructor(endpoints: string | Iterable<string> | EtcdRpc, settings: Partial<Settings> = {}) {
    super();
    // Like redlock: failed attempts are reported as 'error' events; never crash for lack of a listener.
    this.on('error', () => {});
    if (endpoints instanceof EtcdRpc) {
      this.client = endpoints;
      this.ownsClient = false;
    } else {
      const list = typeof endpoints === 'string' ? endpoints.split(',') : [...endpoints];
      if (list.length === 0) throw new Error('Redlock must be instantiated with at least one endpoint.');
      this.client = new EtcdRpc(list);
      this.ownsClient = true;
    }
    this.clients = new Set([this.client]);
    this.settings = mergeSettings(defaultSettings, settings);
  }

  /** Closes the connection (if this Redlock opened it). */
  async quit(): Promise<void> {
    if (this.ownsClient) this.client.close();
  }

  async acquire(resources: string[], duration: number, settings?: Partial<Settings>): Promise<Lock> {
    assertIntegerDuration(duration);
    if (resources.length === 0) throw new Error('at least one resource is required');
    if (new Set(resources).size !== resources.length) throw new Error('Duplicate resources in one lock are not supported.');
    const effective = mergeSettings(this.settings, settings);
    const ttlSeconds = leaseTtlSeconds(duration);
    let attemptStart = 0;
    const { value, attempts } = await runAttempts(
      this.client,
      effective,
      () => {
        attemptStart = Date.now();
        return this.tryAcquireAll(resources, ttlSeconds);
      },
      (error) => this.emit('error', error),
    );
    const expiration = attemptStart + duration - driftMs(effective, duration);
    return new Lock(this, resources, value.leaseId.toString(16), attempts, expiration, value.leaseId, value.ttlSeconds, value.held);
  }

  /**
   * One attempt: a fresh lease, then a TryLock on every resource in sorted order (one global
   * order, so two multi-resource acquirers never each hold what the other wants). On any
   * failure the lease is revoked, which drops whatever keys the attempt had created.
   */
  private async tryAcquireAll(resources: string[], ttlSeconds: number): Promise<{ leaseId: bigint; ttlSeconds: number; held: HeldResource[] }> {
    const grant = await this.client.leaseGrant(ttlSeconds);
    const leaseId = BigInt(grant.ID);
    // The server may raise the TTL to its minimum (etcd: 2 s with default timing).
    const grantedTtlSeconds = Number(grant.TTL);
    const held: HeldResource[] = [];
    try {
      for (const resource of [...resources].sort()) held.push(await tryLockResource(this.client, resource, leaseId));
      return { leaseId, ttlSeconds: grantedTtlSeconds, held };
    } catch (error) {
      await this.client.leaseRevoke(leaseId).catch(() => undefined);
      throw error;
    }
  }

  async release(lock: Lock, settings?: Partial<Settings>): Promise<ExecutionResult> {
    lock.expiration = 0;
    const effective = mergeSettings(this.settings, settings);
    const { attempts } = await runAttempts(
      this.client,
      effective,
      async () => {
        let released = 0;
        for (const held of lock.held) if (await unlockResource(this.client, held)) released++;
        // The keys are gone; the lease has nothing left to guard.
        await this.client.leaseRevoke(lock.leaseId).catch(() => undefined);
        if (released !== lock.held.length) {
          throw new ResourceLockedError(`The operation was applied to: ${released} of the ${lock.held.length} requested resources.`);
        }
      },
      (error) => this.emit('error', error),
    );
    return { attempts };
  }

  /**
   * Keeps `existing` held for at least `duration` ms more. When the lease's TTL already covers
   * `duration`, that is one keepalive (the lease restarts its full TTL). Otherwise the holder
   * keys move, in one Txn guarded by their fencing tokens, to a new lease with a longer TTL
   * (a put keeps a key's create revision, so the fencing tokens do not change), and the old
   * lease is revoked. Either way, a lock whose lease has lapsed cannot be extended.
   */
  async extend(existing: Lock, duration: number, settings?: Partial<Settings>): Promise<Lock> {
    assertIntegerDuration(duration);
    if (existing.expiration < Date.now()) throw new ExecutionError('Cannot extend an already-expired lock.', []);
    const effective = mergeSettings(this.settings, settings);
    const ttlSeconds = leaseTtlSeconds(duration);
    let attemptStart = 0;
    const { value, attempts } = await runAttempts(
      this.client,
      effective,
      () => {
        attemptStart = Date.now();
        return ttlSeconds <= existing.leaseTtlSeconds ? this.keepAlive(existing) : this.moveToLease(existing, ttlSeconds);
      },
      (error) => this.emit('error', error),
    );
    existing.expiration = 0;
    const expiration = attemptStart + duration - driftMs(effective, duration);
    return new Lock(this, existing.resources, existing.value, attempts, expiration, value.leaseId, value.ttlSeconds, existing.held);
  }

  private async keepAlive(lock: Lock): Promise<{ leaseId: bigint; ttlSeconds: number }> {
    const ttl = await this.client.keepAliveOnce(lock.leaseId);
    if (ttl <= 0 || !(await this.stillHolds(lock))) throw this.lostError(lock);
    return { leaseId: lock.leaseId, ttlSeconds: lock.leaseTtlSeconds };
  }

  private async moveToLease(lock: Lock, ttlSeconds: number): Promise<{ leaseId: bigint; ttlSeconds: number }> {
    const grant = await this.client.leaseGrant(ttlSeconds);
    const leaseId = BigInt(grant.ID);
    const response = await this.client.txn({
      compare: lock.held.map(stillHeldCompare),
      success: lock.held.map((held) => ({ request_put: { key: Buffer.from(held.key), value: Buffer.alloc(0), lease: leaseId.toString() } })),
      failure: [],
    });
    if (response.succeeded !== true) {
      await this.client.leaseRevoke(leaseId).catch(() => undefined);
      throw this.lostError(lock);
    }
    await this.client.leaseRevoke(lock.leaseId).catch(() => undefined);
    return { leaseId, ttlSeconds: Number(grant.TTL) };
  }

  private async stillHolds(lock: Lock): Promise<boolean> {
    const response = await this.client.txn({ compare: lock.held.map(stillHeldCompare), success: [], failure: [] });
    return response.succeeded === true;
  }

  private lostError(lock: Lock): ResourceLockedError {
    return new ResourceLockedError(`The operation was applied to: 0 of the ${lock.held.length} requested resources.`);
  }

  /** latchkey addition: put key=value in one Txn guarded by every fencing token of `lock`. */
  async fencedPut(lock: Lock, key: string | Buffer, value: string | Buffer): Promise<boolean> {
    const request: Wire = {
      compare: lock.held.map(stillHeldCompare),
      success: [{ request_put: { key: Buffer.from(key), value: Buffer.from(value) } }],
      failure: [],
    };
    return (await this.client.txn(request)).succeeded === true;
  }

  using<T>(resources: string[], duration: number, settings: Partial<Settings>, routine?: UsingRoutine<T>): Promise<T>;
  using<T>(resources: string[], duration: number, routine: UsingRoutine<T>): Promise<T>;
  async using<T>(
    resources: string[],
    duration: number,
    settingsOrRoutine: Partial<Settings> | UsingRoutine<T> | undefined,
    optionalRoutine?: UsingRoutine<T>,
  ): Promise<T> {
    assertIntegerDuration(duration);
    const settings =
      settingsOrRoutine !== undefined && typeof settingsOrRoutine !== 'function'
        ? mergeSettings(this.settings, settingsOrRoutine)
        : this.settings;
    const routine = optionalRoutine ?? settingsOrRoutine;
    if (typeof routine !== 'function') throw new Error('INVARIANT: routine is not a function.');
    if (settings.automaticExtensionThreshold > duration - 100) {
      throw new Error('A lock `duration` must be at least 100ms greater than the `automaticExtensionThreshold` setting.');
    }
    const lock = await this.acquire(resources, duration, settings);
    return runUsing(lock, duration, settings, routine);
  }
}

export default Redlock;
