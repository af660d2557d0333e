/**
 * LeaseTimeToLiveForward and its response (proto/raft/raftpb.proto): a follower asks the
 * leader, the only member that tracks when leases expire, for a lease's remaining TTL.
 */
import { readFields, WireReader } from './wire-reader';
import { boolFieldSize, delimitedSize, int64FieldSize, WireType, WireWriter } from './wire-writer';

const VARINT = WireType.Varint;
const DELIMITED = WireType.LengthDelimited;

export interface TimeToLiveQuery {
  leaseId: bigint;
  withKeys: boolean;
}

/** What the leader knows of a lease; ttlSeconds -1 when it is unknown or expired. */
export interface TimeToLiveAnswer {
  ttlSeconds: bigint;
  grantedTtlSeconds: bigint;
  keys: Buffer[];
}

export function encodeTimeToLiveQuery(query: TimeToLiveQuery): Buffer {
  const writer = new WireWriter(Buffer.allocUnsafe(int64FieldSize(1, query.leaseId) + boolFieldSize(2, query.withKeys)));
  writer.int64Field(1, query.leaseId);
  writer.boolField(2, query.withKeys);
  return writer.finish();
}

export function decodeTimeToLiveQuery(bytes: Uint8Array): TimeToLiveQuery {
  const reader = new WireReader(bytes);
  const query: TimeToLiveQuery = { leaseId: 0n, withKeys: false };
  readFields(reader, (field, wireType) => {
    if (field === 1) query.leaseId = reader.expect(wireType, VARINT, 'lease_id').int64();
    else if (field === 2) query.withKeys = reader.expect(wireType, VARINT, 'keys').bool();
    else return false;
    return true;
  });
  return query;
}

export function encodeTimeToLiveAnswer(answer: TimeToLiveAnswer): Buffer {
  let size = int64FieldSize(1, answer.ttlSeconds) + int64FieldSize(2, answer.grantedTtlSeconds);
  // Every key is written, an empty one too, so the list keeps its length.
  for (const key of answer.keys) size += delimitedSize(3, key.length);
  const writer = new WireWriter(Buffer.allocUnsafe(size));
  writer.int64Field(1, answer.ttlSeconds);
  writer.int64Field(2, answer.grantedTtlSeconds);
  for (const key of answer.keys) writer.tag(3, DELIMITED).bytes(key);
  return writer.finish();
}

export function decodeTimeToLiveAnswer(bytes: Uint8Array): TimeToLiveAnswer {
  const reader = new WireReader(bytes);
  const answer: TimeToLiveAnswer = { ttlSeconds: 0n, grantedTtlSeconds: 0n, keys: [] };
  readFields(reader, (field, wireType) => {
    if (field === 1) answer.ttlSeconds = reader.expect(wireType, VARINT, 'ttl').int64();
    else if (field === 2) answer.grantedTtlSeconds = reader.expect(wireType, VARINT, 'granted_ttl').int64();
    else if (field === 3) answer.keys.push(reader.expect(wireType, DELIMITED, 'keys').bytesCopy());
    else return false;
    return true;
  });
  return answer;
}
