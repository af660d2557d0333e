import * as fs from 'node:fs';
import * as path from 'node:path';
import * as protoLoader from '@grpc/proto-loader';

/**
 * The etcd v3 method definitions, loaded from the repository's `proto/` folder (latchkey's
 * wire-compatible copy of etcd's protos). 64-bit integers decode as decimal strings (turned
 * into bigint by the callers), enums as numbers, bytes as Buffers, absent fields as defaults.
 */

/** Decoded wire message: proto-loader objects are untyped by nature. */
export type Wire = Record<string, any>;

export type MethodDefinition = protoLoader.MethodDefinition<Wire, Wire>;

const RPC_PROTO = path.join('etcdserverpb', 'rpc.proto');
const MAX_DEPTH = 12;

let cachedDefinition: protoLoader.PackageDefinition | undefined;

/**
 * Where the protos are: $LATCHKEY_PROTO_DIR, else the first `proto/` folder holding
 * etcdserverpb/rpc.proto above this file (works from src/, dist/ and any build folder).
 */
export function findProtoDir(): string {
  const fromEnv = process.env.LATCHKEY_PROTO_DIR;
  if (fromEnv !== undefined && fs.existsSync(path.join(fromEnv, RPC_PROTO))) return fromEnv;
  let dir = __dirname;
  for (let depth = 0; depth < MAX_DEPTH; depth++) {
    const candidate = path.join(dir, 'proto');
    if (fs.existsSync(path.join(candidate, RPC_PROTO))) return candidate;
    const parent = path.dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  throw new Error(`latchkey-client: proto/${RPC_PROTO} not found above ${__dirname}; set LATCHKEY_PROTO_DIR`);
}

function packageDefinition(): protoLoader.PackageDefinition {
  if (cachedDefinition !== undefined) return cachedDefinition;
  const protoDir = findProtoDir();
  cachedDefinition = protoLoader.loadSync(path.join(protoDir, RPC_PROTO), {
    keepCase: true,
    longs: String,
    enums: Number,
    bytes: Buffer,
    defaults: true,
    oneofs: true,
    includeDirs: [protoDir],
  });
  return cachedDefinition;
}

export type ServiceName = 'KV' | 'Watch' | 'Lease';

/** The definition of `etcdserverpb.<service>/<method>` (path, serializers). */
export function method(service: ServiceName, name: string): MethodDefinition {
  const serviceDefinition = packageDefinition()[`etcdserverpb.${service}`] as protoLoader.ServiceDefinition | undefined;
  const found = serviceDefinition?.[name];
  if (found === undefined) throw new Error(`unknown method etcdserverpb.${service}/${name}`);
  return found as MethodDefinition;
}
