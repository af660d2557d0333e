/** A lease as the store persists it; the lessor owns its meaning. */
export interface LeaseRecord {
  id: bigint;
  ttlSeconds: bigint;
  /** Remaining TTL from the last checkpoint; 0 = unknown (use the full TTL). */
  remainingSeconds: bigint;
}

const LEASE_VALUE_BYTES = 16;

export function encodeLease(record: LeaseRecord): Buffer {
  const out = Buffer.allocUnsafe(LEASE_VALUE_BYTES);
  out.writeBigInt64BE(record.ttlSeconds, 0);
  out.writeBigInt64BE(record.remainingSeconds, 8);
  return out;
}

export function decodeLease(idBytes: Uint8Array, value: Uint8Array): LeaseRecord {
  if (idBytes.length !== 8 || value.length !== LEASE_VALUE_BYTES) throw new Error('malformed lease record');
  const id = Buffer.from(idBytes.buffer, idBytes.byteOffset, 8).readBigInt64BE(0);
  const view = Buffer.from(value.buffer, value.byteOffset, value.length);
  return { id, ttlSeconds: view.readBigInt64BE(0), remainingSeconds: view.readBigInt64BE(8) };
}
