import type { ResponseHeader } from '../member-port';
import { WireType, WireWriter, delimitedSize, tagSize, uint64Size } from '../../transport/codec/wire-writer';

/**
 * Hand-encoding helpers for the hot responses (watch events, ranges): protobufjs builds an
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

/** int64 on the wire: negative values as their 64-bit two's complement. */
export function asUint64(value: bigint): bigint {
  return value < 0n ? BigInt.asUintN(64, value) : value;
}

export function varintFieldSize(field: number, value: bigint): number {
  return value === 0n ? 0 : tagSize(field) + uint64Size(asUint64(value));
}

export function writeVarintField(writer: WireWriter, field: number, value: bigint): void {
  if (value !== 0n) writer.tag(field, WireType.Varint).uint64(asUint64(value));
}

function headerPayloadSize(h: ResponseHeader): number {
  return (
    varintFieldSize(CLUSTER_ID, h.clusterId) +
    varintFieldSize(MEMBER_ID, h.memberId) +
    varintFieldSize(REVISION, h.revision) +
    varintFieldSize(RAFT_TERM, h.raftTerm)
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
  writeVarintField(writer, CLUSTER_ID, h.clusterId);
  writeVarintField(writer, MEMBER_ID, h.memberId);
  writeVarintField(writer, REVISION, h.revision);
  writeVarintField(writer, RAFT_TERM, h.raftTerm);
  cachedHeader = { clusterId: h.clusterId, memberId: h.memberId, revision: h.revision, raftTerm: h.raftTerm };
  cachedHeaderRecord = writer.finish();
  return cachedHeaderRecord;
}

