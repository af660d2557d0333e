import * as fs from 'node:fs';
import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

/**
 * The few etcd v3 calls the Redlock adapter needs (Range, Txn, DeleteRange, LeaseGrant,
 * LeaseRevoke, one LeaseKeepAlive round, LeaseTimeToLive), over the public gRPC API only,
 * so it works against latchkey and etcd alike. Kept inside the redlock folder so the adapter
 * does not depend on the rest of the client while that is being built.
 */

/** Decoded wire message: proto-loader objects are untyped by nature. */
export type Wire = Record<string, any>;

/** etcd's enum numbers (sent as numbers: proto-loader drops unknown enum names silently). */
export const SortOrder = { NONE: 0, ASCEND: 1, DESCEND: 2 } as const;
export const SortTarget = { KEY: 0, VERSION: 1, CREATE: 2, MOD: 3, VALUE: 4 } as const;
export const CompareResult = { EQUAL: 0, GREATER: 1, LESS: 2, NOT_EQUAL: 3 } as const;
export const CompareTarget = { VERSION: 0, CREATE: 1, MOD: 2, VALUE: 3, LEASE: 4 } as const;

const DEFAULT_DEADLINE_MS = 5_000;
const PROTO_SEARCH_DEPTH = 10;

/** A failed call: gRPC status code and etcd's message text. */
export class RpcError extends Error {
  constructor(
    readonly code: number,
    readonly details: string,
  ) {
    super(`etcd rpc failed (${code}): ${details}`);
    this.name = 'RpcError';
  }
}

/** The folder holding etcdserverpb/rpc.proto: latchkey's proto/ above this file. */
function findProtoDir(): string {
  let dir = __dirname;
  for (let depth = 0; depth < PROTO_SEARCH_DEPTH; depth++) {
    const candidate = path.join(dir, 'proto');
    if (fs.existsSync(path.join(candidate, 'etcdserverpb', 'rpc.proto'))) return candidate;
    dir = path.dirname(dir);
  }
  throw new Error(`etcd protos (proto/etcdserverpb/rpc.proto) not found above ${__dirname}`);
}

let cachedPackage: grpc.GrpcObject | undefined;

function etcdPackage(): grpc.GrpcObject {
  if (cachedPackage !== undefined) return cachedPackage;
  const protoDir = findProtoDir();
  const definition = protoLoader.loadSync(path.join(protoDir, 'etcdserverpb', 'rpc.proto'), {
    keepCase: true,
    longs: String,
    enums: String,
    defaults: true,
    oneofs: true,
    includeDirs: [protoDir],
  });
  cachedPackage = grpc.loadPackageDefinition(definition).etcdserverpb as grpc.GrpcObject;
  return cachedPackage;
}

/**
 * One gRPC target for a list of endpoints: several IPv4 `host:port` endpoints become one
 * `ipv4:` target (grpc-js picks the first that answers); otherwise the first endpoint.
 */
export function grpcTarget(endpoints: readonly string[]): string {
  if (endpoints.length === 0) throw new Error('at least one endpoint is required');
  const stripped = endpoints.map((endpoint) => endpoint.replace(/^https?:\/\//, ''));
  if (stripped.length > 1 && stripped.every((endpoint) => /^\d+\.\d+\.\d+\.\d+:\d+$/.test(endpoint))) {
    return `ipv4:${stripped.join(',')}`;
  }
  return stripped[0]!;
}

type UnaryMethod = (
  request: Wire,
  metadata: grpc.Metadata,
  options: grpc.CallOptions,
  callback: (error: grpc.ServiceError | null, response: Wire) => void,
) => grpc.ClientUnaryCall;

export class EtcdRpc {
  private readonly kv: grpc.Client;
  private readonly lease: grpc.Client;

  constructor(
    readonly endpoints: readonly string[],
    private readonly deadlineMs = DEFAULT_DEADLINE_MS,
  ) {
    const pkg = etcdPackage();
    const target = grpcTarget(endpoints);
    const credentials = grpc.credentials.createInsecure();
    this.kv = new (pkg.KV as grpc.ServiceClientConstructor)(target, credentials);
    // Same target and options: grpc-js shares one channel between the two stubs.
    this.lease = new (pkg.Lease as grpc.ServiceClientConstructor)(target, credentials);
  }

  private call(stub: grpc.Client, method: string, request: Wire): Promise<Wire> {
    const fn = (stub as unknown as Record<string, UnaryMethod | undefined>)[method];
    if (typeof fn !== 'function') throw new Error(`no method ${method} in rpc.proto`);
    const deadline = new Date(Date.now() + this.deadlineMs);
    return new Promise((resolve, reject) => {
      fn.call(stub, request, new grpc.Metadata(), { deadline }, (error, response) => {
        if (error) reject(new RpcError(error.code, error.details));
        else resolve(response);
      });
    });
  }

  range(request: Wire): Promise<Wire> {
    return this.call(this.kv, 'Range', request);
  }
  txn(request: Wire): Promise<Wire> {
    return this.call(this.kv, 'Txn', request);
  }
  deleteRange(request: Wire): Promise<Wire> {
    return this.call(this.kv, 'DeleteRange', request);
  }
  leaseGrant(ttlSeconds: number): Promise<Wire> {
    return this.call(this.lease, 'LeaseGrant', { TTL: String(ttlSeconds), ID: '0' });
  }
  leaseRevoke(leaseId: bigint): Promise<Wire> {
    return this.call(this.lease, 'LeaseRevoke', { ID: leaseId.toString() });
  }
  leaseTimeToLive(leaseId: bigint): Promise<Wire> {
    return this.call(this.lease, 'LeaseTimeToLive', { ID: leaseId.toString(), keys: false });
  }

  /**
   * One keepalive round on a fresh stream (what etcd3's keepaliveOnce does). Resolves with
   * the TTL the server reset the lease to; 0 means the lease no longer exists.
   */
  keepAliveOnce(leaseId: bigint): Promise<number> {
    const stub = this.lease as unknown as {
      LeaseKeepAlive(md: grpc.Metadata, options: grpc.CallOptions): grpc.ClientDuplexStream<Wire, Wire>;
    };
    const stream = stub.LeaseKeepAlive(new grpc.Metadata(), { deadline: new Date(Date.now() + this.deadlineMs) });
    return new Promise((resolve, reject) => {
      let settled = false;
      const finish = (outcome: () => void): void => {
        if (settled) return;
        settled = true;
        stream.cancel();
        outcome();
      };
      stream.on('data', (response: Wire) => finish(() => resolve(Number(response.TTL))));
      stream.on('error', (error: grpc.ServiceError) => finish(() => reject(new RpcError(error.code, error.details))));
      stream.on('end', () => finish(() => reject(new RpcError(grpc.status.UNAVAILABLE, 'keepalive stream ended'))));
      stream.write({ ID: leaseId.toString() });
    });
  }

  close(): void {
    this.kv.close();
    this.lease.close();
  }
}

/** The key just past every key with this prefix (etcd's prefix range end). */
export function prefixEnd(prefix: Buffer): Buffer {
  const end = Buffer.from(prefix);
  for (let index = end.length - 1; index >= 0; index--) {
    if (end[index]! < 0xff) {
      end[index] = end[index]! + 1;
      return end.subarray(0, index + 1);
    }
  }
  return Buffer.from([0]);
}
