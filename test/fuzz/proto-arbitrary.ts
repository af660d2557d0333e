import fc from 'fast-check';
import type * as protobuf from 'protobufjs';
import { protoRoot } from '../../src/api/codec/proto-root';

/**
 * fast-check arbitraries for any message of our protos, built from protobufjs reflection:
 * every field may be absent or present; 64-bit integers include 0, ±1 and the int64/uint64
 * extremes; enums include unknown and negative values; nested messages (Txn inside Txn)
 * recurse to a bounded depth. Messages are plain objects for `Type.fromObject`.
 */

export type PlainMessage = Record<string, unknown>;

const MAX_DEPTH = 3;
const INT64_MIN = -(1n << 63n);
const INT64_MAX = (1n << 63n) - 1n;
const UINT64_MAX = (1n << 64n) - 1n;

/** A few fixed keys so random puts, ranges, compares and deletes meet each other. */
const SHARED_KEYS = ['a', 'b', 'fz/1', 'fz/2', 'fz0', '\u0000', '\u00ff'];

function int64String(signed: boolean): fc.Arbitrary<string> {
  const min = signed ? INT64_MIN : 0n;
  const max = signed ? INT64_MAX : UINT64_MAX;
  const edges = signed ? [0n, 1n, -1n, 2n, INT64_MAX, INT64_MIN, 1n << 53n] : [0n, 1n, 2n, INT64_MAX, UINT64_MAX, 1n << 53n];
  return fc.oneof(fc.constantFrom(...edges), fc.bigInt({ min: -1000n > min ? -1000n : min, max: 1000n }), fc.bigInt({ min, max })).map((v) => v.toString());
}

const bytesArb: fc.Arbitrary<Uint8Array> = fc.oneof(
  fc.constantFrom(...SHARED_KEYS).map((key) => Buffer.from(key, 'latin1')),
  fc.uint8Array({ maxLength: 24 }),
);

function scalarArb(type: string): fc.Arbitrary<unknown> {
  switch (type) {
    case 'bytes':
      return bytesArb;
    case 'string':
      return fc.oneof(fc.constantFrom('', 'root', 'fuzz', 'a'), fc.string({ maxLength: 16 }));
    case 'bool':
      return fc.boolean();
    case 'int64':
    case 'sint64':
    case 'sfixed64':
      return int64String(true);
    case 'uint64':
    case 'fixed64':
      return int64String(false);
    case 'int32':
    case 'sint32':
    case 'sfixed32':
      return fc.oneof(fc.integer({ min: -3, max: 10 }), fc.integer({ min: -0x80000000, max: 0x7fffffff }));
    case 'uint32':
    case 'fixed32':
      return fc.oneof(fc.integer({ min: 0, max: 10 }), fc.integer({ min: 0, max: 0xffffffff }));
    case 'double':
    case 'float':
      return fc.double();
    default:
      throw new Error(`proto-arbitrary: unsupported scalar type ${type}`);
  }
}

function fieldArb(field: protobuf.Field, depth: number): fc.Arbitrary<unknown> | undefined {
  const resolved = field.resolvedType;
  let single: fc.Arbitrary<unknown> | undefined;
  if (resolved !== null && 'values' in resolved) {
    const known = Object.values((resolved as protobuf.Enum).values);
    single = fc.oneof(fc.constantFrom(...known), fc.integer({ min: -2, max: 40 }));
  } else if (resolved !== null) {
    if (depth >= MAX_DEPTH) return undefined;
    single = messageArb(resolved as protobuf.Type, depth + 1);
  } else {
    single = scalarArb(field.type);
  }
  return field.repeated ? fc.array(single, { maxLength: 3 }) : single;
}

const arbCache = new Map<string, fc.Arbitrary<PlainMessage>>();

/** Random messages of `type` (plain objects; absent fields omitted). */
export function messageArb(type: protobuf.Type, depth = 0): fc.Arbitrary<PlainMessage> {
  const cacheKey = `${type.fullName}@${depth}`;
  const cached = arbCache.get(cacheKey);
  if (cached !== undefined) return cached;
  const model: Record<string, fc.Arbitrary<unknown>> = {};
  for (const field of type.fieldsArray) {
    field.resolve();
    const arb = fieldArb(field, depth);
    if (arb !== undefined) model[field.name] = arb;
  }
  const arb = fc.record(model, { requiredKeys: [] }) as fc.Arbitrary<PlainMessage>;
  arbCache.set(cacheKey, arb);
  return arb;
}

/** Encodes a plain message (as produced by messageArb) to wire bytes. */
export function encodeMessage(type: protobuf.Type, message: PlainMessage): Buffer {
  const bytes = type.encode(type.fromObject(message)).finish();
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

export interface FuzzMethod {
  /** `Service.Method`, e.g. `KV.Range`. */
  name: string;
  /** gRPC path, e.g. `/etcdserverpb.KV/Range`. */
  path: string;
  requestType: protobuf.Type;
  responseType: protobuf.Type;
  requestStream: boolean;
  responseStream: boolean;
}

export const FUZZED_SERVICES = [
  'etcdserverpb.KV',
  'etcdserverpb.Watch',
  'etcdserverpb.Lease',
  'etcdserverpb.Cluster',
  'etcdserverpb.Maintenance',
  'etcdserverpb.Auth',
  'v3lockpb.Lock',
  'v3electionpb.Election',
] as const;

/** Every method of the fuzzed services, read from the .proto files. */
export function fuzzMethods(): FuzzMethod[] {
  const root = protoRoot();
  const methods: FuzzMethod[] = [];
  for (const serviceName of FUZZED_SERVICES) {
    const service = root.lookupService(serviceName);
    for (const method of service.methodsArray) {
      method.resolve();
      methods.push({
        name: `${service.name}.${method.name}`,
        path: `/${serviceName}/${method.name}`,
        requestType: method.resolvedRequestType!,
        responseType: method.resolvedResponseType!,
        requestStream: method.requestStream === true,
        responseStream: method.responseStream === true,
      });
    }
  }
  return methods;
}
