import * as path from 'node:path';
import * as protobuf from 'protobufjs';
import { protoDir } from '../../paths';

/** Every .proto file the member speaks, relative to protoDir(). */
export const PROTO_FILES = [
  'mvccpb/kv.proto',
  'authpb/auth.proto',
  'etcdserverpb/rpc.proto',
  'v3lockpb/v3lock.proto',
  'v3electionpb/v3election.proto',
  'latchkey/internal.proto',
  'grpc/health/v1/health.proto',
] as const;

let cachedRoot: protobuf.Root | undefined;

/**
 * The protobufjs reflection root for our protos, loaded once. Field names are kept as
 * written in the .proto files (`range_end`, `ID`, `grantedTTL`), like etcd's JSON names.
 */
export function protoRoot(): protobuf.Root {
  if (cachedRoot !== undefined) return cachedRoot;
  const root = new protobuf.Root();
  const base = protoDir();
  root.resolvePath = (_origin: string, target: string): string =>
    path.isAbsolute(target) ? target : path.join(base, target);
  root.loadSync(PROTO_FILES.slice(), { keepCase: true });
  root.resolveAll();
  cachedRoot = root;
  return root;
}

const typeCache = new Map<string, protobuf.Type>();

/** A message type by its full name, e.g. `etcdserverpb.RangeRequest`. */
export function messageType(fullName: string): protobuf.Type {
  let type = typeCache.get(fullName);
  if (type === undefined) {
    type = protoRoot().lookupType(fullName);
    typeCache.set(fullName, type);
  }
  return type;
}

/** A service by its full name, e.g. `etcdserverpb.KV`. */
export function serviceType(fullName: string): protobuf.Service {
  return protoRoot().lookupService(fullName);
}
