import type { ElectionHistory, LeaderObservation } from '../history';
import { checkElectionHistory } from '../runner/checkers-adapter';
import type { Random } from '../runner/random';
import { sleep } from '../runner/random';
import type { EtcdRpc, Wire } from '../runner/rpc';
import { FAILURE_BACKOFF_MS, type Workload, type WorkloadDeps, type WorkloadResult } from './types';

/**
 * election: even workers campaign (v3election Campaign with a short lease, lead briefly,
 * Resign); odd workers observe (v3election Observe, re-opened after every break) and record
 * each leader they are told about, with its term (the leader key's create revision).
 */
const LEASE_TTL_S = 3;
const MAX_OBSERVATIONS = 100_000;

export class ElectionWorkload implements Workload {
  readonly name = 'election';
  readonly observations: LeaderObservation[] = [];
  private finishing = false;
  private readonly observers: Promise<void>[] = [];

  constructor(private readonly deps: WorkloadDeps) {}

  private get electionName(): string {
    return `${this.deps.prefix}election/the-election`;
  }

  async runWorker(worker: number, rpc: EtcdRpc, random: Random, stopped: () => boolean): Promise<void> {
    if (worker % 2 === 1) {
      this.observers.push(this.observe(worker, rpc));
      return;
    }
    const recorder = this.deps.recorder;
    for (let n = 0; n < this.deps.maxOpsPerWorker && !stopped(); n++) {
      const client = recorder.newClient();
      let lease: bigint;
      try {
        lease = await rpc.leaseGrant(LEASE_TTL_S);
      } catch {
        await sleep(FAILURE_BACKOFF_MS);
        continue;
      }
      await recorder.run(this.name, client, { worker }, 'campaign', false, async () => {
        const leader = await rpc.campaign(this.electionName, lease, `c${client}`, 4_000);
        await sleep(random.int(50, 300));
        await rpc.resign(leader);
        return {};
      });
      await rpc.leaseRevoke(lease).catch(() => undefined);
    }
  }

  private async observe(observer: number, rpc: EtcdRpc): Promise<void> {
    const clock = this.deps.recorder.clock;
    for (let round = 0; round < 10_000 && !this.finishing; round++) {
      await new Promise<void>((resolve) => {
        const stream = rpc.observe(this.electionName);
        let done = false;
        const end = (): void => {
          if (done) return;
          done = true;
          clearInterval(poll);
          stream.cancel();
          resolve();
        };
        const poll = setInterval(() => {
          if (this.finishing) end();
        }, 200);
        stream.on('data', (response: Wire) => {
          const kv = response.kv as Wire | undefined;
          if (kv === undefined || kv === null || this.observations.length >= MAX_OBSERVATIONS) return;
          this.observations.push({
            observer,
            term: BigInt(kv.create_revision),
            leaderKey: (kv.key as Buffer).toString('utf8'),
            leaderValue: (kv.value as Buffer).toString('utf8'),
            atMs: clock.now(),
          });
        });
        stream.on('error', end);
        stream.on('end', end);
      });
      if (!this.finishing) await sleep(FAILURE_BACKOFF_MS * 2);
    }
  }

  async finish(_rpc: EtcdRpc): Promise<WorkloadResult> {
    this.finishing = true;
    await Promise.all(this.observers);
    const history: ElectionHistory = { observations: this.observations };
    return { history, checks: [checkElectionHistory(history)] };
  }
}
