import type { ConfChange, ConfChangeTypeValue } from '../consensus/types';

/**
 * ConfChange entry payload: type (1 byte), node id (8 bytes, big-endian), then the opaque
 * context (the member record). Fixed layout, so every member decodes it identically.
 */
export function encodeConfChange(cc: ConfChange): Uint8Array {
  const bytes = Buffer.alloc(9 + cc.context.length);
  bytes.writeUInt8(cc.type, 0);
  bytes.writeBigUInt64BE(cc.nodeId, 1);
  Buffer.from(cc.context).copy(bytes, 9);
  return bytes;
}

export function decodeConfChange(data: Uint8Array): ConfChange {
  const bytes = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  if (bytes.length < 9) throw new Error(`conf change entry of ${bytes.length} bytes is too short`);
  return {
    type: bytes.readUInt8(0) as ConfChangeTypeValue,
    nodeId: bytes.readBigUInt64BE(1),
    context: bytes.subarray(9),
  };
}
