import { Client, Session } from '../../../clients/typescript/src';
import type { BenchOptions } from '../options';
import type { ChannelPool } from '../rpc';

/** One session lease per worker, each kept alive by the repository client on its channel. */
export interface WorkerSessions {
  /** Worker w's session (its client is the one for channel w mod conns). */
  readonly sessions: Session[];
  /** Revokes every session's lease (best effort) and closes the clients. */
  close(): Promise<void>;
}

/** Opens `options.clients` sessions with `options.sessionTtlSeconds`, spread like the workers. */
export async function openWorkerSessions(options: BenchOptions, pool: ChannelPool): Promise<WorkerSessions> {
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
  return {
    sessions,
    close: async () => {
      await Promise.all(sessions.map((session) => session.close().catch(() => undefined)));
      for (const client of clients) client.close();
    },
  };
}
