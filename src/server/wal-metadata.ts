/** The WAL's metadata record: which member and cluster these files belong to. */
export interface WalMetadata {
  memberId: bigint;
  clusterId: bigint;
}

export function encodeWalMetadata(meta: WalMetadata): Uint8Array {
  const bytes = Buffer.alloc(16);
  bytes.writeBigUInt64BE(meta.memberId, 0);
  bytes.writeBigUInt64BE(meta.clusterId, 8);
  return bytes;
}

export function decodeWalMetadata(data: Uint8Array | undefined): WalMetadata {
  if (data === undefined || data.byteLength !== 16) throw new Error('WAL metadata record is missing or malformed');
  const bytes = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return { memberId: bytes.readBigUInt64BE(0), clusterId: bytes.readBigUInt64BE(8) };
}
