import { Client, Mutex, Session } from '../../../clients/typescript/src';
import type { WorkloadFactory } from './types';

/**
 * `lock`: each operation is one acquire + release of a mutex (etcd's concurrency protocol,
 * through the repository client). Worker w locks name w mod lockNames: --lock-names 1 makes
 * every worker contend for one lock; --lock-names ≥ clients gives each worker its own.
 */
export const lockWorkload: WorkloadFactory = async (options, pool) => {
  const clients = pool.channels.map((channel) => new Client({ endpoints: [channel.endpoint], maxRetries: 0 }));
  const sessions: Session[] = [];
  try {
    for (let worker = 0; worker < options.clients; worker++) {
      sessions.push(await Session.create(clients[worker % clients.length]!, { ttlSeconds: options.sessionTtlSeconds }));
    }
  } catch (error) {
    for (const client of clients) client.close();
    throw error;
  }
  const runId = Date.now().toString(36);
  return {
    op: async (worker) => {
      const mutex = new Mutex(sessions[worker]!, `bench-lock/${runId}/${worker % options.lockNames}`);
      await mutex.lock();
      await mutex.unlock();
    },
    close: async () => {
      await Promise.all(sessions.map((session) => session.close().catch(() => undefined)));
      for (const client of clients) client.close();
    },
  };
};
