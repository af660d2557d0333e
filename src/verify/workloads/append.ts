import type { AppendHistory, AppendInput, AppendOperation, AppendOutput } from '../history';
import { checkAppendHistory } from '../runner/checkers-adapter';
import type { Random } from '../runner/random';
import { sleep } from '../runner/random';
import { DefiniteFailure } from '../runner/recorder';
import type { EtcdRpc } from '../runner/rpc';
import { FAILURE_BACKOFF_MS, THINK_MS, type Workload, type WorkloadDeps, type WorkloadResult } from './types';

/**
 * append: per-key lists. An append reads the key (list + mod revision), then Txn: compare
 * mod_revision == the read one → put list + element. A failed comparison is a definite
 * failure (nothing written). Reads return the whole list. After the run, every key is read.
 */
const KEYS = 4;

function decode(value: string | undefined): string[] {
  return value === undefined || value === '' ? [] : value.split(' ');
}

export class AppendWorkload implements Workload {
  readonly name = 'append';
  readonly operations: AppendOperation[] = [];
  private elements = 0;

  constructor(private readonly deps: WorkloadDeps) {}

  private key(index: number): string {
    return `${this.deps.prefix}append/k${index}`;
  }

  async runWorker(_worker: number, rpc: EtcdRpc, random: Random, stopped: () => boolean): Promise<void> {
    const recorder = this.deps.recorder;
    let client = recorder.newClient();
    for (let n = 0; n < this.deps.maxOpsPerWorker && !stopped(); n++) {
      const key = this.key(random.int(0, KEYS - 1));
      let op: AppendOperation;
      if (random.next() < 0.4) {
        op = await recorder.run<AppendInput, AppendOutput>(this.name, client, { key, op: 'read' }, `r ${key}`, true, async () => {
          const result = await rpc.range(key);
          return { list: decode(result.kvs[0]?.value) };
        });
      } else {
        const element = String(this.elements++);
        op = await recorder.run<AppendInput, AppendOutput>(this.name, client, { key, op: 'append', element }, `a ${key}`, false, async () => {
          let read;
          try {
            read = await rpc.range(key);
          } catch (error) {
            throw new DefiniteFailure(String(error));
          }
          const current = read.kvs[0];
          const list = decode(current?.value);
          list.push(element);
          const result = await rpc.txn([{ key, target: 'mod', modRevision: current?.modRevision ?? 0n }], [{ put: { key, value: list.join(' ') } }]);
          if (!result.succeeded) throw new DefiniteFailure('mod revision changed');
          return {};
        });
      }
      this.operations.push(op);
      if (op.status === 'unknown') client = recorder.newClient();
      await sleep(op.status === 'ok' ? THINK_MS : FAILURE_BACKOFF_MS);
    }
  }

  async finish(rpc: EtcdRpc): Promise<WorkloadResult> {
    const finalLists: Record<string, string[]> = {};
    for (let i = 0; i < KEYS; i++) {
      const key = this.key(i);
      const result = await rpc.range(key);
      finalLists[key] = decode(result.kvs[0]?.value);
    }
    const history: AppendHistory = { operations: this.operations, finalLists };
    return { history, checks: [checkAppendHistory(history)] };
  }
}
