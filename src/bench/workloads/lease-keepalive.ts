import type { ClientDuplexStream } from '@grpc/grpc-js';
import type { Wire } from '../rpc';
import type { WorkloadFactory } from './types';

const LEASE_TTL_SECONDS = 60;

/** One keepalive stream per worker with at most one request in flight on it. */
class KeepAliveLane {
  private pending: { resolve: (response: Wire) => void; reject: (error: Error) => void } | undefined;

  constructor(
    private readonly stream: ClientDuplexStream<Wire, Wire>,
    readonly leaseId: string,
  ) {
    stream.on('data', (response: Wire) => {
      const waiter = this.pending;
      this.pending = undefined;
      waiter?.resolve(response);
    });
    const fail = (error: Error): void => {
      const waiter = this.pending;
      this.pending = undefined;
      waiter?.reject(error);
    };
    stream.on('error', fail);
    stream.on('end', () => fail(new Error('keepalive stream ended')));
  }

  keepAlive(): Promise<Wire> {
    if (this.pending !== undefined) throw new Error('KeepAliveLane: one request at a time');
    return new Promise((resolve, reject) => {
      this.pending = { resolve, reject };
      this.stream.write({ ID: this.leaseId });
    });
  }

  close(): void {
    this.stream.removeAllListeners('error');
    this.stream.on('error', () => undefined);
    this.stream.cancel();
  }
}

/** `lease-keepalive`: each worker grants a lease, then each operation is one keepalive round trip. */
export const leaseKeepAliveWorkload: WorkloadFactory = async (options, pool) => {
  const lanes: KeepAliveLane[] = [];
  for (let worker = 0; worker < options.clients; worker++) {
    const channel = pool.forWorker(worker);
    const granted = await channel.unary('Lease', 'LeaseGrant', { TTL: LEASE_TTL_SECONDS });
    lanes.push(new KeepAliveLane(channel.stream('Lease', 'LeaseKeepAlive'), String(granted.ID)));
  }
  return {
    op: async (worker) => {
      const lane = lanes[worker]!;
      const response = await lane.keepAlive();
      if (String(response.TTL) === '0') throw new Error(`lease ${lane.leaseId} not found`);
    },
    close: async () => {
      for (const [worker, lane] of lanes.entries()) {
        lane.close();
        await pool.forWorker(worker).unary('Lease', 'LeaseRevoke', { ID: lane.leaseId }).catch(() => undefined);
      }
    },
  };
};
