import * as protobuf from 'protobufjs';
import { EtcdError, GrpcCode } from '../errors';
import { int64ToWire, type Wire, type WireOut } from '../api/codec/wire-scalars';
import { CorruptBase64Error, decodeGoBase64 } from './go-base64';

/**
 * JSON ↔ protobuf as etcd 3.4's grpc-gateway (jsonpb, OrigName) does it. Input: original or
 * lowerCamelCase names, 64-bit integers as numbers or strings, enums as names or numbers,
 * bytes as standard base64; unknown fields are ignored. Output: original names, 64-bit
 * integers as strings, enums as names, bytes as base64, default values omitted.
 */

/** A request body that cannot become the request message: 400 with Go's text. */
export function badJson(message: string): EtcdError {
  return new EtcdError(GrpcCode.INVALID_ARGUMENT, message);
}

/** Nesting deeper than this is refused (txn nesting is bounded by max-txn-ops anyway). */
const MAX_DEPTH = 256;

function jsonKind(value: unknown): string {
  if (Array.isArray(value)) return 'array';
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string': return 'string';
    case 'number': return 'number';
    case 'boolean': return 'bool';
    default: return 'object';
  }
}

/** Go names the number itself only when a number does not fit a numeric type. */
function cannotUnmarshal(value: unknown, goType: string, numericTarget = false): EtcdError {
  const shown = numericTarget && typeof value === 'number' ? `number ${String(value)}` : jsonKind(value);
  return badJson(`json: cannot unmarshal ${shown} into Go value of type ${goType}`);
}

/** Go's error for a quoted integer that is not one (jsonpb unquotes, then parses). */
function notAnInteger(text: string): EtcdError {
  const first = text.trimStart()[0];
  if (first === undefined) return badJson('unexpected end of JSON input');
  return badJson(`invalid character '${first}' looking for beginning of value`);
}

const INT_TYPES: Record<string, { bits: 32 | 64; signed: boolean }> = {
  int64: { bits: 64, signed: true }, sint64: { bits: 64, signed: true }, sfixed64: { bits: 64, signed: true },
  uint64: { bits: 64, signed: false }, fixed64: { bits: 64, signed: false },
  int32: { bits: 32, signed: true }, sint32: { bits: 32, signed: true }, sfixed32: { bits: 32, signed: true },
  uint32: { bits: 32, signed: false }, fixed32: { bits: 32, signed: false },
};

function integerFromJson(value: unknown, type: string): bigint {
  const spec = INT_TYPES[type]!;
  let n: bigint;
  if (typeof value === 'number') {
    if (!Number.isInteger(value)) throw cannotUnmarshal(value, type, true);
    n = BigInt(value);
  } else if (typeof value === 'string') {
    if (!/^-?\d+$/.test(value.trim())) throw notAnInteger(value);
    n = BigInt(value.trim());
  } else {
    throw cannotUnmarshal(value, type);
  }
  const max = spec.signed ? (1n << BigInt(spec.bits - 1)) - 1n : (1n << BigInt(spec.bits)) - 1n;
  const min = spec.signed ? -(1n << BigInt(spec.bits - 1)) : 0n;
  if (n > max || n < min) throw badJson(`json: cannot unmarshal number ${n.toString()} into Go value of type ${type}`);
  return n;
}

function scalarFromJson(field: protobuf.Field, value: unknown, depth: number): unknown {
  const resolved = field.resolvedType;
  if (resolved instanceof protobuf.Type) return messageFromJson(resolved, value, depth + 1);
  if (resolved instanceof protobuf.Enum) {
    if (typeof value === 'number' && Number.isInteger(value)) return value;
    if (typeof value === 'string' && Object.prototype.hasOwnProperty.call(resolved.values, value)) return resolved.values[value];
    throw badJson(`unknown value ${JSON.stringify(value)} for enum ${resolved.fullName.replace(/^\./, '')}`);
  }
  switch (field.type) {
    case 'bytes':
      if (typeof value !== 'string') throw cannotUnmarshal(value, '[]uint8');
      try {
        return decodeGoBase64(value);
      } catch (err) {
        if (err instanceof CorruptBase64Error) throw badJson(err.message);
        throw err;
      }
    case 'string':
      if (typeof value !== 'string') throw cannotUnmarshal(value, 'string');
      return value;
    case 'bool':
      if (typeof value !== 'boolean') throw cannotUnmarshal(value, 'bool');
      return value;
    case 'double':
    case 'float':
      if (typeof value !== 'number') throw cannotUnmarshal(value, field.type === 'double' ? 'float64' : 'float32');
      return value;
    default: {
      const n = integerFromJson(value, field.type);
      return INT_TYPES[field.type]!.bits === 64 ? int64ToWire(n) : Number(n);
    }
  }
}

/** Fields by original and lowerCamelCase name. */
const fieldIndex = new WeakMap<protobuf.Type, Map<string, protobuf.Field>>();

function fieldsOf(type: protobuf.Type): Map<string, protobuf.Field> {
  let index = fieldIndex.get(type);
  if (index === undefined) {
    index = new Map();
    for (const field of type.fieldsArray) {
      field.resolve();
      index.set(field.name, field);
      index.set(field.name.replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase()), field);
    }
    fieldIndex.set(type, index);
  }
  return index;
}

/** A JSON value (already parsed) → an object protobufjs can encode as `type`. */
export function messageFromJson(type: protobuf.Type, value: unknown, depth = 0): WireOut {
  if (depth > MAX_DEPTH) throw badJson('exceeded max depth');
  if (value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw cannotUnmarshal(value, type.name);
  const out: WireOut = {};
  const fields = fieldsOf(type);
  for (const [key, item] of Object.entries(value as Record<string, unknown>)) {
    const field = fields.get(key);
    if (field === undefined || item === null) continue;
    if (field.repeated) {
      if (!Array.isArray(item)) throw cannotUnmarshal(item, `[]${field.type}`);
      out[field.name] = item.map((element: unknown) => scalarFromJson(field, element, depth));
    } else {
      out[field.name] = scalarFromJson(field, item, depth);
    }
  }
  return out;
}

/** The request as the gRPC path would have received it: JSON → protobuf bytes. */
export function requestBytesFromJson(type: protobuf.Type, json: unknown): Buffer {
  const bytes = type.encode(messageFromJson(type, json)).finish();
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

const TO_JSON: protobuf.IConversionOptions = { longs: String, enums: String, bytes: String, defaults: false, oneofs: false };

/** Encoded response bytes → etcd's gateway JSON object. */
export function responseJsonFromBytes(type: protobuf.Type, bytes: Uint8Array): Record<string, unknown> {
  const message: Wire = type.decode(bytes);
  return type.toObject(message, TO_JSON);
}
