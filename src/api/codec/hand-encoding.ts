import type { ResponseHeader } from '../member-port';
import { WireType, WireWriter, delimitedSize, int64FieldSize } from '../../transport/codec/wire-writer';

/**
 * The response header shared by the hand-encoded hot responses (watch events, ranges): protobufjs builds an
 * op list per field and an object tree per message; these write one exactly-sized buffer.
 * Bytes are what protobufjs writes for the same fields (field order, zero values left out,
 * int64 as two's complement varints); tests hold the two side by side.
 */

/** Every etcd response's header is field 1. */
const HEADER = 1;

const CLUSTER_ID = 1;
const MEMBER_ID = 2;
const REVISION = 3;
const RAFT_TERM = 4;

function headerPayloadSize(h: ResponseHeader): number {
  return (
    int64FieldSize(CLUSTER_ID, h.clusterId) +
    int64FieldSize(MEMBER_ID, h.memberId) +
    int64FieldSize(REVISION, h.revision) +
    int64FieldSize(RAFT_TERM, h.raftTerm)
  );
}

/** The header of the last response encoded: a fan-out encodes the same one many times. */
let cachedHeader: ResponseHeader | undefined;
let cachedHeaderRecord: Buffer | undefined;

/** Field 1 (header) as a length-delimited record (the last one is kept: a fan-out repeats it). */
export function headerRecord(h: ResponseHeader): Buffer {
  const cached = cachedHeader;
  if (
    cachedHeaderRecord !== undefined &&
    cached !== undefined &&
    cached.revision === h.revision &&
    cached.raftTerm === h.raftTerm &&
    cached.memberId === h.memberId &&
    cached.clusterId === h.clusterId
  ) {
    return cachedHeaderRecord;
  }
  const payload = headerPayloadSize(h);
  const writer = new WireWriter(Buffer.allocUnsafe(delimitedSize(HEADER, payload)));
  writer.tag(HEADER, WireType.LengthDelimited).varint32(payload);
  writer.int64Field(CLUSTER_ID, h.clusterId);
  writer.int64Field(MEMBER_ID, h.memberId);
  writer.int64Field(REVISION, h.revision);
  writer.int64Field(RAFT_TERM, h.raftTerm);
  cachedHeader = { clusterId: h.clusterId, memberId: h.memberId, revision: h.revision, raftTerm: h.raftTerm };
  cachedHeaderRecord = writer.finish();
  return cachedHeaderRecord;
}

