/**
 * Conversions between protobufjs scalar representations and the model's bigint/Buffer.
 * protobufjs decodes 64-bit fields as Long ({low, high}) and absent bytes fields as an
 * empty array; it encodes 64-bit fields from a number or any {low, high} object.
 */

/** A decoded protobuf object: the only place `any` is allowed (untrusted wire input). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Wire = any;

/** An object handed to protobufjs encode: field name → value. */
export type WireOut = Record<string, unknown>;

interface LongLike { low: number; high: number }
/** What protobufjs' writer accepts for int64/uint64 beyond the safe-integer range. */
export interface LongBits { low: number; high: number; unsigned: boolean }

export const EMPTY_BUFFER: Buffer = Buffer.alloc(0);

const SAFE_MAX = 0x1fffffffffffffn;
const SAFE_MIN = -0x1fffffffffffffn;
const U32 = 0xffffffffn;

export function wireInt64(value: unknown): bigint {
  if (value === undefined || value === null) return 0n;
  if (typeof value === 'number') return BigInt(value);
  if (typeof value === 'string') return BigInt(value);
  if (typeof value === 'bigint') return BigInt.asIntN(64, value);
  const long = value as LongLike;
  if (long.high === 0) return BigInt(long.low >>> 0);
  return BigInt.asIntN(64, (BigInt(long.high >>> 0) << 32n) | BigInt(long.low >>> 0));
}

export function wireUint64(value: unknown): bigint {
  if (value === undefined || value === null) return 0n;
  if (typeof value === 'number') return BigInt.asUintN(64, BigInt(value));
  if (typeof value === 'string') return BigInt.asUintN(64, BigInt(value));
  if (typeof value === 'bigint') return BigInt.asUintN(64, value);
  const long = value as LongLike;
  if (long.high === 0) return BigInt(long.low >>> 0);
  return (BigInt(long.high >>> 0) << 32n) | BigInt(long.low >>> 0);
}

/** int64 or uint64 to a value protobufjs writes losslessly (two's complement for negatives). */
export function int64ToWire(value: bigint): number | LongBits {
  if (value >= SAFE_MIN && value <= SAFE_MAX) return Number(value);
  const bits = BigInt.asUintN(64, value);
  return { low: Number(bits & U32) | 0, high: Number(bits >> 32n) | 0, unsigned: value >= 0n };
}

export function wireBytes(value: unknown): Buffer {
  if (Buffer.isBuffer(value)) return value;
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  if (Array.isArray(value) && value.length > 0) return Buffer.from(value as number[]);
  return EMPTY_BUFFER;
}

export function wireBool(value: unknown): boolean {
  return value === true;
}

export function wireString(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

/** An enum value if it is one of `allowed`, else 0 (proto3's default). */
export function wireEnum<T extends number>(value: unknown, maxValue: number): T {
  return (typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= maxValue ? value : 0) as T;
}

/** Whether a decoded message really carries `field` (oneof members, submessages). */
export function hasField(message: Wire, field: string): boolean {
  return message !== null && message !== undefined && Object.prototype.hasOwnProperty.call(message, field) && message[field] !== null && message[field] !== undefined;
}
