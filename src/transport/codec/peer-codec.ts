/**
 * The latchkeyraftpb.Peer service's other messages (snapshot chunks, lease keepalive
 * forward, cluster info), with the same hand-written wire code as the Raft messages.
 */
import type { Message } from '../../consensus';
import type { MemberInfo } from '../../api/member-port';
import { raftMessageSize, readRaftMessage, writeRaftMessage } from './raft-message-codec';
import { WireDecodeError, WireReader, expectWireType, readFields } from './wire-reader';
import { WireType, WireWriter, assertUint64, boolFieldSize, delimitedSize, tagSize, uint64Size } from './wire-writer';

const VARINT = WireType.Varint;
const DELIMITED = WireType.LengthDelimited;

export const EMPTY_MESSAGE: Buffer = Buffer.alloc(0);

export type SnapshotChunk =
  | { kind: 'message'; message: Message }
  | { kind: 'data'; data: Uint8Array }
  | { kind: 'trailer'; sha256: Uint8Array; length: bigint };

export function encodeSnapshotChunk(chunk: SnapshotChunk): Buffer {
  if (chunk.kind === 'message') {
    const size = raftMessageSize(chunk.message);
    const writer = new WireWriter(Buffer.allocUnsafe(delimitedSize(1, size)));
    writer.tag(1, DELIMITED);
    writer.varint32(size);
    writeRaftMessage(writer, chunk.message);
    return writer.finish();
  }
  if (chunk.kind === 'data') {
    const writer = new WireWriter(Buffer.allocUnsafe(delimitedSize(2, chunk.data.length)));
    writer.tag(2, DELIMITED);
    writer.bytes(chunk.data);
    return writer.finish();
  }
  assertUint64(chunk.length, 'trailer.length');
  const trailerSize = delimitedSize(1, chunk.sha256.length) + tagSize(2) + uint64Size(chunk.length);
  const writer = new WireWriter(Buffer.allocUnsafe(delimitedSize(3, trailerSize)));
  writer.tag(3, DELIMITED);
  writer.varint32(trailerSize);
  writer.tag(1, DELIMITED);
  writer.bytes(chunk.sha256);
  writer.tag(2, VARINT);
  writer.uint64(chunk.length);
  return writer.finish();
}

/** Exactly one of the chunk's fields must be set. */
export function decodeSnapshotChunk(bytes: Uint8Array): SnapshotChunk {
  const reader = new WireReader(bytes);
  let chunk: SnapshotChunk | undefined;
  const set = (next: SnapshotChunk): void => {
    if (chunk !== undefined) throw new WireDecodeError('snapshot chunk with more than one part');
    chunk = next;
  };
  readFields(reader, (field, wireType) => {
    if (field === 1) {
      expectWireType(wireType, DELIMITED, 'chunk.message');
      set({ kind: 'message', message: readRaftMessage(reader.nested()) });
    } else if (field === 2) {
      expectWireType(wireType, DELIMITED, 'chunk.data');
      set({ kind: 'data', data: reader.bytesView() });
    } else if (field === 3) {
      expectWireType(wireType, DELIMITED, 'chunk.trailer');
      set(readTrailer(reader.nested()));
    } else return false;
    return true;
  });
  // An empty data chunk encodes as zero bytes.
  return chunk ?? { kind: 'data', data: new Uint8Array(0) };
}

function readTrailer(reader: WireReader): SnapshotChunk {
  let sha256: Uint8Array = new Uint8Array(0);
  let length = 0n;
  readFields(reader, (field, wireType) => {
    if (field === 1) sha256 = reader.expect(wireType, DELIMITED, 'trailer.sha256').bytesCopy();
    else if (field === 2) length = reader.expect(wireType, VARINT, 'trailer.length').uint64();
    else return false;
    return true;
  });
  return { kind: 'trailer', sha256, length };
}

/** A message with one uint64/int64 field 1 (SnapshotAck, LeaseKeepAliveForward and its response). */
export function encodeSingleUint64(value: bigint): Buffer {
  const bits = BigInt.asUintN(64, value);
  if (bits === 0n) return EMPTY_MESSAGE;
  const writer = new WireWriter(Buffer.allocUnsafe(tagSize(1) + uint64Size(bits)));
  writer.tag(1, VARINT);
  writer.uint64(bits);
  return writer.finish();
}

export function decodeSingleUint64(bytes: Uint8Array): bigint {
  const reader = new WireReader(bytes);
  let value = 0n;
  readFields(reader, (field, wireType) => {
    if (field !== 1) return false;
    expectWireType(wireType, VARINT, 'field 1');
    value = reader.uint64();
    return true;
  });
  return value;
}

export function decodeSingleInt64(bytes: Uint8Array): bigint {
  return BigInt.asIntN(64, decodeSingleUint64(bytes));
}

/**
 * A message whose field 1 is a repeated (unpacked) uint64/int64: batched lease keepalive
 * forwards and their TTLs. Every value is written, zeros included, so counts line up; a
 * one-value list is the same bytes as encodeSingleUint64 of a non-zero value.
 */
export function encodeUint64List(values: readonly bigint[]): Buffer {
  let size = 0;
  for (const value of values) size += tagSize(1) + uint64Size(BigInt.asUintN(64, value));
  const writer = new WireWriter(Buffer.allocUnsafe(size));
  for (const value of values) {
    writer.tag(1, VARINT);
    writer.uint64(BigInt.asUintN(64, value));
  }
  return writer.finish();
}

/** Bounded by the message length: each value takes at least two bytes. */
export function decodeInt64List(bytes: Uint8Array): bigint[] {
  const reader = new WireReader(bytes);
  const values: bigint[] = [];
  readFields(reader, (field, wireType) => {
    if (field !== 1) return false;
    expectWireType(wireType, VARINT, 'field 1');
    values.push(BigInt.asIntN(64, reader.uint64()));
    return true;
  });
  return values;
}

export interface ClusterInfo {
  clusterId: bigint;
  members: MemberInfo[];
}

function stringsSize(field: number, values: readonly string[]): number {
  let size = 0;
  for (const value of values) size += delimitedSize(field, Buffer.byteLength(value));
  return size;
}

function memberSize(member: MemberInfo): number {
  return (
    (member.id === 0n ? 0 : tagSize(1) + uint64Size(member.id)) +
    (member.name === '' ? 0 : delimitedSize(2, Buffer.byteLength(member.name))) +
    stringsSize(3, member.peerUrls) +
    stringsSize(4, member.clientUrls) +
    boolFieldSize(5, member.isLearner)
  );
}

function writeString(writer: WireWriter, field: number, value: string): void {
  writer.tag(field, DELIMITED);
  writer.bytes(Buffer.from(value, 'utf8'));
}

function writeMember(writer: WireWriter, member: MemberInfo): void {
  assertUint64(member.id, 'member.id');
  writer.tag(2, DELIMITED);
  writer.varint32(memberSize(member));
  if (member.id !== 0n) writer.tag(1, VARINT).uint64(member.id);
  if (member.name !== '') writeString(writer, 2, member.name);
  for (const url of member.peerUrls) writeString(writer, 3, url);
  for (const url of member.clientUrls) writeString(writer, 4, url);
  writer.boolField(5, member.isLearner);
}

export function encodeClusterInfo(info: ClusterInfo): Buffer {
  assertUint64(info.clusterId, 'clusterId');
  let size = info.clusterId === 0n ? 0 : tagSize(1) + uint64Size(info.clusterId);
  for (const member of info.members) size += delimitedSize(2, memberSize(member));
  const writer = new WireWriter(Buffer.allocUnsafe(size));
  if (info.clusterId !== 0n) writer.tag(1, VARINT).uint64(info.clusterId);
  for (const member of info.members) writeMember(writer, member);
  return writer.finish();
}

function readMember(reader: WireReader): MemberInfo {
  const member: MemberInfo = { id: 0n, name: '', peerUrls: [], clientUrls: [], isLearner: false };
  readFields(reader, (field, wireType) => {
    if (field === 1) member.id = reader.expect(wireType, VARINT, 'member.id').uint64();
    else if (field === 2) member.name = reader.expect(wireType, DELIMITED, 'member.name').string();
    else if (field === 3) member.peerUrls.push(reader.expect(wireType, DELIMITED, 'member.peer_urls').string());
    else if (field === 4) member.clientUrls.push(reader.expect(wireType, DELIMITED, 'member.client_urls').string());
    else if (field === 5) member.isLearner = reader.expect(wireType, VARINT, 'member.is_learner').bool();
    else return false;
    return true;
  });
  return member;
}

export function decodeClusterInfo(bytes: Uint8Array): ClusterInfo {
  const reader = new WireReader(bytes);
  const info: ClusterInfo = { clusterId: 0n, members: [] };
  readFields(reader, (field, wireType) => {
    if (field === 1) info.clusterId = reader.expect(wireType, VARINT, 'cluster_id').uint64();
    else if (field === 2) info.members.push(readMember(reader.expect(wireType, DELIMITED, 'members').nested()));
    else return false;
    return true;
  });
  return info;
}
