import type { LockHistory, LockHold, ResourceWrite } from '../history';
import { checkLockHistory } from '../runner/checkers-adapter';
import type { Random } from '../runner/random';
import { sleep } from '../runner/random';
import type { EtcdRpc } from '../runner/rpc';
import { FAILURE_BACKOFF_MS, type Workload, type WorkloadDeps, type WorkloadResult } from './types';

/**
 * lock: clients take one lock through the v3lock Lock RPC (with a short lease), learn their
 * fencing token (the holder key's create revision), write it to an in-runner resource that
 * accepts a token only if it is >= the highest accepted so far, hold briefly, and unlock.
 */
const LEASE_TTL_S = 3;

/** The checking resource: a fenced register living in the runner. */
export class FencedResource {
  private highest = -1n;
  readonly log: ResourceWrite[] = [];

  constructor(private readonly now: () => number) {}

  write(holder: number, token: bigint): boolean {
    const accepted = token >= this.highest;
    if (accepted) this.highest = token;
    if (this.log.length < 100_000) this.log.push({ holder, token, acceptedMs: this.now(), accepted });
    return accepted;
  }
}

export class LockWorkload implements Workload {
  readonly name = 'lock';
  readonly holds: LockHold[] = [];
  readonly resource: FencedResource;

  constructor(private readonly deps: WorkloadDeps) {
    this.resource = new FencedResource(() => deps.recorder.clock.now());
  }

  async runWorker(_worker: number, rpc: EtcdRpc, random: Random, stopped: () => boolean): Promise<void> {
    const recorder = this.deps.recorder;
    const lockName = `${this.deps.prefix}lock/the-lock`;
    for (let n = 0; n < this.deps.maxOpsPerWorker && !stopped(); n++) {
      const client = recorder.newClient();
      let lease: bigint;
      try {
        lease = await rpc.leaseGrant(LEASE_TTL_S);
      } catch {
        await sleep(100);
        continue;
      }
      // One timeline bar per hold attempt: acquire → release.
      let holdKey: string | undefined;
      const op = await recorder.run(this.name, client, { lockName }, 'lock', false, async () => {
        const held = await rpc.lock(lockName, lease, 4_000);
        holdKey = held.key;
        const acquiredMs = recorder.clock.now();
        const token = (await rpc.range(held.key)).kvs[0]?.createRevision;
        if (token === undefined) throw new Error('lock key vanished before the first write');
        const hold: LockHold = { holder: client, token, acquiredMs, releasedMs: Infinity };
        this.holds.push(hold);
        this.resource.write(client, token);
        await sleep(random.int(20, 200));
        this.resource.write(client, token);
        hold.releasedMs = recorder.clock.now();
        await rpc.unlock(held.key);
        return {};
      });
      // Always drop the lease: it ends a Lock call still queued server-side after a timeout,
      // and releases a hold whose Unlock was lost.
      if (op.status !== 'ok' && holdKey === undefined) await sleep(FAILURE_BACKOFF_MS);
      await rpc.leaseRevoke(lease).catch(() => undefined);
    }
  }

  async finish(_rpc: EtcdRpc): Promise<WorkloadResult> {
    const history: LockHistory = { holds: this.holds, resourceLog: this.resource.log };
    return { history, checks: [checkLockHistory(history)] };
  }
}
