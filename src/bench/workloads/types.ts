import type { BenchOptions } from '../options';
import type { ChannelPool } from '../rpc';
import type { Operation } from '../runner';

/** A prepared workload: `op` is one timed operation; `close` undoes the setup. */
export interface WorkloadDriver {
  readonly op: Operation;
  close(): Promise<void>;
}

export type WorkloadFactory = (options: BenchOptions, pool: ChannelPool) => Promise<WorkloadDriver>;
