import { openWorkerSessions } from './sessions';
import type { WorkloadFactory } from './types';

/**
 * `v3lock`: each operation is one acquire + release through etcd's lock service
 * (v3lockpb.Lock/Lock, then Lock/Unlock with the key it returned), the API the gRPC
 * gateway and non-Go clients lock with. The server runs the mutex protocol itself, so a
 * cycle costs the client two calls where `lock` makes five and a watch. Worker w holds its
 * own session lease (kept alive by the repository client) and locks name w mod lockNames.
 */
export const v3lockWorkload: WorkloadFactory = async (options, pool) => {
  const { sessions, close } = await openWorkerSessions(options, pool);
  const runId = Date.now().toString(36);
  return {
    op: async (worker) => {
      const channel = pool.forWorker(worker);
      const name = Buffer.from(`bench-v3lock/${runId}/${worker % options.lockNames}`);
      const held = await channel.unary('Lock', 'Lock', { name, lease: sessions[worker]!.leaseId.toString() });
      const key: unknown = held.key;
      if (!Buffer.isBuffer(key) || key.length === 0) throw new Error('Lock/Lock answered without a key');
      await channel.unary('Lock', 'Unlock', { key });
    },
    close,
  };
};
