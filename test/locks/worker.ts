import { once } from 'node:events';
import * as path from 'node:path';
import { createInterface } from 'node:readline';
import { spawnTracked, type TrackedProcess } from '../support/processes';

export interface WorkerEvent {
  event: 'session' | 'acquired' | 'elected';
  key?: string;
  token?: string;
  lease?: string;
}

/** A lock or campaign worker in its own process (fixtures/lock-worker), followed line by line. */
export class LockWorker {
  private readonly events: WorkerEvent[] = [];
  private readonly waiters: Array<() => void> = [];

  private constructor(readonly process: TrackedProcess) {
    createInterface({ input: process.child.stdout! }).on('line', (line) => {
      try {
        this.events.push(JSON.parse(line) as WorkerEvent);
      } catch {
        return;
      }
      for (const wake of this.waiters.splice(0)) wake();
    });
  }

  static start(mode: 'lock' | 'campaign', endpoints: string[], name: string, ttlSeconds: number, value?: string): LockWorker {
    const script = path.join(__dirname, 'fixtures', 'lock-worker.js');
    const args = [script, mode, endpoints.join(','), name, String(ttlSeconds), ...(value === undefined ? [] : [value])];
    return new LockWorker(spawnTracked(process.execPath, args, {}));
  }

  /** The first event of `kind`, waiting at most `timeoutMs`. */
  async next(kind: WorkerEvent['event'], timeoutMs: number): Promise<WorkerEvent> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.events.find((e) => e.event === kind);
      if (found !== undefined) return found;
      if (this.process.exited) throw new Error(`worker exited before '${kind}':\n${this.process.output()}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`worker: no '${kind}' within ${timeoutMs} ms:\n${this.process.output()}`);
      await Promise.race([
        new Promise<void>((resolve) => this.waiters.push(resolve)),
        new Promise<void>((resolve) => setTimeout(resolve, Math.min(left, 500))),
        once(this.process.child, 'exit').then(() => undefined),
      ]);
    }
  }

  has(kind: WorkerEvent['event']): boolean {
    return this.events.some((e) => e.event === kind);
  }

  async kill9(): Promise<void> {
    await this.process.stop('SIGKILL');
  }
}
