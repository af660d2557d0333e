import { Connection, ConnectionOptions } from './connection';
import { Bytes, KV } from './kv';
import { Lease, LeaseClient } from './lease';
import { Watch, WatchManager, WatchOptions } from './watch';

export type ClientOptions = ConnectionOptions;

/**
 * The etcd v3 client: works against latchkey and etcd alike. One gRPC channel per endpoint;
 * calls fail over to the next endpoint on UNAVAILABLE and are retried with exponential
 * backoff and jitter (bounded by maxRetries). All watches share one stream.
 */
export class Client {
  readonly connection: Connection;
  readonly kv: KV;
  readonly leases: LeaseClient;
  readonly watches: WatchManager;

  constructor(options: ClientOptions) {
    this.connection = new Connection(options);
    this.kv = new KV(this.connection);
    this.leases = new LeaseClient(this.connection);
    this.watches = new WatchManager(this.connection);
  }

  /** Starts a watch; resolves once the server has created it. */
  watch(key: Bytes, options: WatchOptions = {}): Promise<Watch> {
    return this.watches.watch(key, options);
  }

  /** Grants a lease of `ttlSeconds` and keeps it alive. */
  lease(ttlSeconds: number, options: { id?: bigint; keepAlive?: boolean } = {}): Promise<Lease> {
    return this.leases.lease(ttlSeconds, options);
  }

  /** Ends every watch and closes the channels; keepalives stop with them. */
  close(): void {
    this.watches.close();
    this.leases.releaseAll();
    this.connection.close();
  }
}
