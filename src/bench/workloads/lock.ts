import { Mutex } from '../../../clients/typescript/src';
import { openWorkerSessions } from './sessions';
import type { WorkloadFactory } from './types';

/**
 * `lock`: each operation is one acquire + release of a mutex (etcd's concurrency protocol,
 * through the repository client). Worker w locks name w mod lockNames: --lock-names 1 makes
 * every worker contend for one lock; --lock-names ≥ clients gives each worker its own.
 */
export const lockWorkload: WorkloadFactory = async (options, pool) => {
  const { sessions, close } = await openWorkerSessions(options, pool);
  const runId = Date.now().toString(36);
  return {
    op: async (worker) => {
      const mutex = new Mutex(sessions[worker]!, `bench-lock/${runId}/${worker % options.lockNames}`);
      await mutex.lock();
      await mutex.unlock();
    },
    close,
  };
};
