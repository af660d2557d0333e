import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { protoDir } from '../../src/paths';
import { MessageQueue, RpcError, type Wire } from '../support/etcd-client';

/**
 * A raw gRPC client for v3lockpb.Lock and v3electionpb.Election, loaded from our proto/
 * (etcd's definitions). defaults:false, so absent fields are absent; 64-bit fields are
 * decimal strings; bytes are Buffers.
 */

let cachedPackages: { lock: grpc.ServiceClientConstructor; election: grpc.ServiceClientConstructor } | undefined;

function packages(): { lock: grpc.ServiceClientConstructor; election: grpc.ServiceClientConstructor } {
  if (cachedPackages !== undefined) return cachedPackages;
  const files = [path.join('v3lockpb', 'v3lock.proto'), path.join('v3electionpb', 'v3election.proto')];
  const definition = protoLoader.loadSync(files, { keepCase: true, longs: String, enums: Number, defaults: false, includeDirs: [protoDir()] });
  const loaded = grpc.loadPackageDefinition(definition) as unknown as {
    v3lockpb: { Lock: grpc.ServiceClientConstructor };
    v3electionpb: { Election: grpc.ServiceClientConstructor };
  };
  cachedPackages = { lock: loaded.v3lockpb.Lock, election: loaded.v3electionpb.Election };
  return cachedPackages;
}

type UnaryMethod = (
  request: Wire,
  metadata: grpc.Metadata,
  options: grpc.CallOptions,
  callback: (error: grpc.ServiceError | null, response: Wire) => void,
) => grpc.ClientUnaryCall;

const DEFAULT_DEADLINE_MS = 10_000;

/** A server stream (Election/Observe) whose messages a test awaits one by one. */
export class ReadStream extends MessageQueue<grpc.ClientReadableStream<Wire>> {}

export interface CallOptions {
  deadlineMs?: number;
}

export class ConcurrencyClient {
  private readonly lockStub: grpc.Client;
  private readonly electionStub: grpc.Client;

  constructor(readonly endpoint: string) {
    const { lock, election } = packages();
    this.lockStub = new lock(endpoint, grpc.credentials.createInsecure());
    this.electionStub = new election(endpoint, grpc.credentials.createInsecure());
  }

  private call(stub: grpc.Client, method: string, request: Wire, options: CallOptions = {}): Promise<Wire> {
    const fn = (stub as unknown as Record<string, UnaryMethod>)[method]!;
    const deadline = new Date(Date.now() + (options.deadlineMs ?? DEFAULT_DEADLINE_MS));
    return new Promise((resolve, reject) => {
      fn.call(stub, request, new grpc.Metadata(), { deadline }, (error, response) => {
        if (error) reject(new RpcError(error.code, error.details));
        else resolve(response);
      });
    });
  }

  lock(name: string, lease: string | number = 0, options?: CallOptions): Promise<Wire> {
    return this.call(this.lockStub, 'Lock', { name: Buffer.from(name), lease }, options);
  }
  unlock(key: Buffer | string, options?: CallOptions): Promise<Wire> {
    return this.call(this.lockStub, 'Unlock', { key: Buffer.from(key) }, options);
  }
  campaign(name: string, lease: string | number, value: string, options?: CallOptions): Promise<Wire> {
    return this.call(this.electionStub, 'Campaign', { name: Buffer.from(name), lease, value: Buffer.from(value) }, options);
  }
  proclaim(leader: Wire | undefined, value: string, options?: CallOptions): Promise<Wire> {
    return this.call(this.electionStub, 'Proclaim', { leader, value: Buffer.from(value) }, options);
  }
  leader(name: string, options?: CallOptions): Promise<Wire> {
    return this.call(this.electionStub, 'Leader', { name: Buffer.from(name) }, options);
  }
  resign(leader: Wire | undefined, options?: CallOptions): Promise<Wire> {
    return this.call(this.electionStub, 'Resign', { leader }, options);
  }
  observe(name: string): ReadStream {
    const stub = this.electionStub as unknown as { Observe(request: Wire): grpc.ClientReadableStream<Wire> };
    return new ReadStream(stub.Observe({ name: Buffer.from(name) }));
  }

  close(): void {
    this.lockStub.close();
    this.electionStub.close();
  }
}
