import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { protoDir } from '../paths';

/**
 * The two read-only calls `latchkey locks` makes (KV.Range, Lease.LeaseTimeToLive), as an
 * ordinary etcd v3 client: nothing latchkey-specific, so the tool works against etcd too.
 */

/** Decoded wire message: proto-loader objects are untyped by nature. */
export type Wire = Record<string, any>;

export interface StoredKey {
  key: Buffer;
  value: Buffer;
  createRevision: bigint;
  modRevision: bigint;
  leaseId: bigint;
}

export interface RangePage {
  revision: bigint;
  kvs: StoredKey[];
  more: boolean;
}

export interface LeaseTtl {
  /** Remaining seconds; -1 if the lease is gone. */
  ttlSeconds: bigint;
  grantedTtlSeconds: bigint;
}

const DEADLINE_MS = 5_000;

type UnaryMethod = (
  request: Wire,
  metadata: grpc.Metadata,
  options: grpc.CallOptions,
  callback: (error: grpc.ServiceError | null, response: Wire) => void,
) => grpc.ClientUnaryCall;

let cachedPackage: grpc.GrpcObject | undefined;

function etcdPackage(): grpc.GrpcObject {
  if (cachedPackage !== undefined) return cachedPackage;
  const definition = protoLoader.loadSync(path.join(protoDir(), 'etcdserverpb', 'rpc.proto'), {
    keepCase: true,
    longs: String,
    enums: String,
    defaults: true,
    oneofs: true,
    includeDirs: [protoDir()],
  });
  cachedPackage = grpc.loadPackageDefinition(definition).etcdserverpb as grpc.GrpcObject;
  return cachedPackage;
}

/** etcdctl-style endpoints ("http://127.0.0.1:2379,127.0.0.1:22379") → one gRPC target. */
export function endpointsTarget(endpoints: string): string {
  const list = endpoints
    .split(',')
    .map((endpoint) => endpoint.trim().replace(/^https?:\/\//, ''))
    .filter((endpoint) => endpoint !== '');
  if (list.length === 0) throw new Error('no endpoint given');
  if (list.length > 1 && list.every((endpoint) => /^\d+\.\d+\.\d+\.\d+:\d+$/.test(endpoint))) return `ipv4:${list.join(',')}`;
  return list[0]!;
}

function toStoredKey(kv: Wire): StoredKey {
  return {
    key: kv.key as Buffer,
    value: kv.value as Buffer,
    createRevision: BigInt(kv.create_revision),
    modRevision: BigInt(kv.mod_revision),
    leaseId: BigInt(kv.lease),
  };
}

export class LocksRpc {
  private readonly kv: grpc.Client;
  private readonly lease: grpc.Client;

  constructor(endpoints: string) {
    const pkg = etcdPackage();
    const target = endpointsTarget(endpoints);
    this.kv = new (pkg.KV as grpc.ServiceClientConstructor)(target, grpc.credentials.createInsecure());
    this.lease = new (pkg.Lease as grpc.ServiceClientConstructor)(target, grpc.credentials.createInsecure());
  }

  private call(stub: grpc.Client, method: string, request: Wire): Promise<Wire> {
    const fn = (stub as unknown as Record<string, UnaryMethod>)[method]!;
    return new Promise((resolve, reject) => {
      fn.call(stub, request, new grpc.Metadata(), { deadline: new Date(Date.now() + DEADLINE_MS) }, (error, response) => {
        if (error) reject(new Error(error.details || error.message));
        else resolve(response);
      });
    });
  }

  /** Range [key, rangeEnd) at `revision` (0 = now), at most `limit` keys, in key order. */
  async range(key: Buffer, rangeEnd: Buffer, options: { revision: bigint; limit: number; keysOnly: boolean }): Promise<RangePage> {
    const response = await this.call(this.kv, 'Range', {
      key,
      range_end: rangeEnd,
      revision: options.revision.toString(),
      limit: String(options.limit),
      keys_only: options.keysOnly,
    });
    return {
      revision: BigInt(response.header.revision),
      kvs: (response.kvs as Wire[]).map(toStoredKey),
      more: response.more === true,
    };
  }

  async leaseTimeToLive(leaseId: bigint): Promise<LeaseTtl> {
    const response = await this.call(this.lease, 'LeaseTimeToLive', { ID: leaseId.toString(), keys: false });
    return { ttlSeconds: BigInt(response.TTL), grantedTtlSeconds: BigInt(response.grantedTTL) };
  }

  close(): void {
    this.kv.close();
    this.lease.close();
  }
}
