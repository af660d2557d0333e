import type { LeaseHistory, LeaseRecord, SnapshotKey } from '../history';
import { checkLeaseHistory } from '../runner/checkers-adapter';
import type { Random } from '../runner/random';
import { sleep } from '../runner/random';
import type { EtcdRpc } from '../runner/rpc';
import { type Workload, type WorkloadDeps, type WorkloadResult } from './types';

/**
 * lease: each worker grants short leases and attaches a key to each; about half are kept
 * alive (a keep-alive every second until the final read), the rest are left to expire.
 * At the end (after quiescence, and long enough for the abandoned ones to lapse) every key
 * under the prefix is read with its lease.
 */
const TTL_S = 5;
const MAX_LEASES_PER_WORKER = 8;

export class LeaseWorkload implements Workload {
  readonly name = 'lease';
  readonly leases: LeaseRecord[] = [];
  private finishing = false;
  private readonly keepers: Promise<void>[] = [];

  constructor(private readonly deps: WorkloadDeps) {}

  async runWorker(worker: number, rpc: EtcdRpc, random: Random, stopped: () => boolean): Promise<void> {
    const recorder = this.deps.recorder;
    for (let n = 0; n < MAX_LEASES_PER_WORKER && !stopped(); n++) {
      const client = recorder.newClient();
      const key = `${this.deps.prefix}lease/w${worker}-${n}`;
      const keep = random.next() < 0.5;
      let leaseId = 0n;
      const op = await recorder.run(this.name, client, { key }, keep ? 'grant+keep' : 'grant', false, async () => {
        leaseId = await rpc.leaseGrant(TTL_S);
        await rpc.put(key, `v${n}`, leaseId);
        return {};
      });
      if (op.status === 'ok') {
        const record: LeaseRecord = { leaseId, keys: [key], keptAlive: keep };
        this.leases.push(record);
        if (keep) this.keepers.push(this.keepAlive(record, rpc));
        else record.expiredAtMs = recorder.clock.now() + TTL_S * 1000;
      }
      await sleep(random.int(200, 600));
    }
  }

  /** Keeps the lease alive until finish; a failed keep-alive that finds the lease gone ends it. */
  private async keepAlive(record: LeaseRecord, rpc: EtcdRpc): Promise<void> {
    let lastOk = this.deps.recorder.clock.now();
    while (!this.finishing) {
      try {
        const ttl = await rpc.leaseKeepAliveOnce(record.leaseId);
        if (ttl <= 0n) {
          // The server says it is gone (not renewed in time during a fault): expired.
          record.keptAlive = false;
          record.expiredAtMs = this.deps.recorder.clock.now();
          return;
        }
        lastOk = this.deps.recorder.clock.now();
      } catch {
        // member down or slow: try again; if the TTL lapses the server will say so
      }
      if (this.deps.recorder.clock.now() - lastOk > TTL_S * 1000) {
        // Unconfirmed for a whole TTL, yet a leader change may have extended it: its fate is
        // unknown, so it is neither kept alive nor expired (the checker skips it).
        record.keptAlive = false;
        return;
      }
      await sleep(500);
    }
  }

  async finish(rpc: EtcdRpc): Promise<WorkloadResult> {
    // Abandoned leases lapse within TTL (+ a leader change's extension); then read.
    await sleep((TTL_S + 3) * 1000);
    const result = await rpc.range(`${this.deps.prefix}lease/`, { prefix: true });
    this.finishing = true;
    await Promise.all(this.keepers);
    const finalKeys: Record<string, SnapshotKey> = {};
    for (const kv of result.kvs) finalKeys[kv.key] = { value: kv.value, lease: kv.lease };
    const history: LeaseHistory = { leases: this.leases, finalKeys };
    return { history, checks: [checkLeaseHistory(history)] };
  }
}
