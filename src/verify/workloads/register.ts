import type { RegisterOperation, RegisterOutput, RegisterInput, RegisterValue } from '../history';
import { checkRegisterHistory } from '../runner/checkers-adapter';
import type { Random } from '../runner/random';
import { sleep } from '../runner/random';
import type { EtcdRpc } from '../runner/rpc';
import { FAILURE_BACKOFF_MS, THINK_MS, type Workload, type WorkloadDeps, type WorkloadResult } from './types';

/**
 * register: per-key read (linearizable Range), write (Put) and compare-and-set (Txn: value
 * == expected → put; expected null compares version == 0). Values are unique per write, so
 * a read names the write it saw.
 */
const KEYS = 4;

export class RegisterWorkload implements Workload {
  readonly name = 'register';
  readonly operations: RegisterOperation[] = [];
  private writes = 0;

  constructor(private readonly deps: WorkloadDeps) {}

  private key(index: number): string {
    return `${this.deps.prefix}register/k${index}`;
  }

  async runWorker(_worker: number, rpc: EtcdRpc, random: Random, stopped: () => boolean): Promise<void> {
    const recorder = this.deps.recorder;
    let client = recorder.newClient();
    /** Values this worker recently saw per key: CAS guesses from them so some succeed. */
    const seen = new Map<string, RegisterValue>();
    for (let n = 0; n < this.deps.maxOpsPerWorker && !stopped(); n++) {
      const key = this.key(random.int(0, KEYS - 1));
      const roll = random.next();
      let op: RegisterOperation;
      if (roll < 0.4) {
        const input: RegisterInput = { key, op: 'read' };
        op = await recorder.run<RegisterInput, RegisterOutput>(this.name, client, input, `r ${key}`, true, async () => {
          const result = await rpc.range(key);
          const value = result.kvs[0]?.value ?? null;
          seen.set(key, value);
          return { value };
        });
      } else if (roll < 0.7) {
        const value = `w${this.writes++}`;
        const input: RegisterInput = { key, op: 'write', value };
        op = await recorder.run<RegisterInput, RegisterOutput>(this.name, client, input, `w ${key}`, false, async () => {
          await rpc.put(key, value);
          seen.set(key, value);
          return {};
        });
      } else {
        const expected = seen.get(key) ?? null;
        const value = `w${this.writes++}`;
        const input: RegisterInput = { key, op: 'cas', expected, value };
        op = await recorder.run<RegisterInput, RegisterOutput>(this.name, client, input, `cas ${key}`, false, async () => {
          const compare = expected === null ? { key, target: 'version' as const, version: 0n } : { key, target: 'value' as const, value: expected };
          const result = await rpc.txn([compare], [{ put: { key, value } }], [{ range: { key } }]);
          seen.set(key, result.succeeded ? value : (result.ranges[0]?.[0]?.value ?? null));
          return { succeeded: result.succeeded };
        });
      }
      this.operations.push(op);
      if (op.status === 'unknown') client = recorder.newClient();
      await sleep(op.status === 'ok' ? THINK_MS : FAILURE_BACKOFF_MS);
    }
  }

  async finish(_rpc: EtcdRpc): Promise<WorkloadResult> {
    return { history: { operations: this.operations }, checks: [checkRegisterHistory(this.operations)] };
  }
}
