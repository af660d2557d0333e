/**
 * Message ↔ latchkeyraftpb.Message bytes (proto/raft/raftpb.proto), written by hand because
 * heartbeats and appends are the hot path: no intermediate objects, no Long conversions,
 * one exactly-sized buffer per envelope. Zero values are omitted as proto3 does; repeated
 * ids are packed. Bytes fields decode to Buffers (copies). test/transport/codec.test.ts checks
 * the bytes against protobufjs.
 */
import {
  EntryType,
  MessageType,
  newMessage,
  type ConfState,
  type Entry,
  type EntryTypeValue,
  type Message,
  type MessageTypeValue,
  type Snapshot,
} from '../../consensus';
import { WireDecodeError, WireReader, expectWireType, readFields } from './wire-reader';
import { WireType, WireWriter, assertUint64, boolFieldSize, bytesFieldSize, delimitedSize, tagSize, uint64Size, varint32Size } from './wire-writer';

const VARINT = WireType.Varint;
const DELIMITED = WireType.LengthDelimited;
const MAX_MESSAGE_TYPE = Math.max(...Object.values(MessageType));
/** Absent bytes fields decode to this (shared: decoded messages are never written to). */
const EMPTY_BYTES: Buffer = Buffer.alloc(0);

// ---- sizes -------------------------------------------------------------------------------

function uint64FieldSize(field: number, value: bigint): number {
  return value === 0n ? 0 : tagSize(field) + uint64Size(value);
}

function entrySize(entry: Entry): number {
  return (
    uint64FieldSize(1, entry.term) +
    uint64FieldSize(2, entry.index) +
    (entry.type === EntryType.Normal ? 0 : tagSize(3) + varint32Size(entry.type)) +
    bytesFieldSize(4, entry.data)
  );
}

function packedIdsPayloadSize(ids: NodeIdList): number {
  let size = 0;
  for (const id of ids) size += uint64Size(id);
  return size;
}

type NodeIdList = readonly bigint[];

function packedFieldSize(field: number, ids: NodeIdList): number {
  return ids.length === 0 ? 0 : delimitedSize(field, packedIdsPayloadSize(ids));
}

function confStateSize(confState: ConfState): number {
  return packedFieldSize(1, confState.voters) + packedFieldSize(2, confState.learners);
}

function metadataSize(snapshot: Snapshot): number {
  const { metadata } = snapshot;
  return delimitedSize(1, confStateSize(metadata.confState)) + uint64FieldSize(2, metadata.index) + uint64FieldSize(3, metadata.term);
}

function snapshotSize(snapshot: Snapshot): number {
  return bytesFieldSize(1, snapshot.data) + delimitedSize(2, metadataSize(snapshot));
}

/** The encoded size of a Message (without an enclosing tag). */
export function raftMessageSize(message: Message): number {
  let size = message.type === 0 ? 0 : tagSize(1) + varint32Size(message.type);
  size += uint64FieldSize(2, message.to) + uint64FieldSize(3, message.from) + uint64FieldSize(4, message.term);
  size += uint64FieldSize(5, message.logTerm) + uint64FieldSize(6, message.index);
  for (const entry of message.entries) size += delimitedSize(7, entrySize(entry));
  size += uint64FieldSize(8, message.commit);
  if (message.snapshot !== undefined) size += delimitedSize(9, snapshotSize(message.snapshot));
  size += boolFieldSize(10, message.reject);
  size += uint64FieldSize(11, message.rejectHint) + bytesFieldSize(12, message.context);
  size += boolFieldSize(13, message.commitOnly === true);
  return size;
}

// ---- writing -----------------------------------------------------------------------------

function writeUint64Field(writer: WireWriter, field: number, value: bigint, name: string): void {
  assertUint64(value, name);
  if (value === 0n) return;
  writer.tag(field, VARINT);
  writer.uint64(value);
}

function writeEntry(writer: WireWriter, entry: Entry): void {
  writer.tag(7, DELIMITED);
  writer.varint32(entrySize(entry));
  writeUint64Field(writer, 1, entry.term, 'entry.term');
  writeUint64Field(writer, 2, entry.index, 'entry.index');
  if (entry.type !== EntryType.Normal) {
    writer.tag(3, VARINT);
    writer.varint32(entry.type);
  }
  writer.bytesField(4, entry.data);
}

function writePackedIds(writer: WireWriter, field: number, ids: NodeIdList): void {
  if (ids.length === 0) return;
  writer.tag(field, DELIMITED);
  writer.varint32(packedIdsPayloadSize(ids));
  for (const id of ids) {
    assertUint64(id, 'confState id');
    writer.uint64(id);
  }
}

function writeSnapshot(writer: WireWriter, snapshot: Snapshot): void {
  writer.tag(9, DELIMITED);
  writer.varint32(snapshotSize(snapshot));
  writer.bytesField(1, snapshot.data);
  writer.tag(2, DELIMITED);
  writer.varint32(metadataSize(snapshot));
  writer.tag(1, DELIMITED);
  writer.varint32(confStateSize(snapshot.metadata.confState));
  writePackedIds(writer, 1, snapshot.metadata.confState.voters);
  writePackedIds(writer, 2, snapshot.metadata.confState.learners);
  writeUint64Field(writer, 2, snapshot.metadata.index, 'snapshot.index');
  writeUint64Field(writer, 3, snapshot.metadata.term, 'snapshot.term');
}

/** Writes a Message's fields (the caller wrote its tag and length, if nested). */
export function writeRaftMessage(writer: WireWriter, message: Message): void {
  if (message.type !== 0) {
    writer.tag(1, VARINT);
    writer.varint32(message.type);
  }
  writeUint64Field(writer, 2, message.to, 'to');
  writeUint64Field(writer, 3, message.from, 'from');
  writeUint64Field(writer, 4, message.term, 'term');
  writeUint64Field(writer, 5, message.logTerm, 'logTerm');
  writeUint64Field(writer, 6, message.index, 'index');
  for (const entry of message.entries) writeEntry(writer, entry);
  writeUint64Field(writer, 8, message.commit, 'commit');
  if (message.snapshot !== undefined) writeSnapshot(writer, message.snapshot);
  writer.boolField(10, message.reject);
  writeUint64Field(writer, 11, message.rejectHint, 'rejectHint');
  writer.bytesField(12, message.context);
  writer.boolField(13, message.commitOnly === true);
}

export function encodeRaftMessage(message: Message): Buffer {
  const writer = new WireWriter(Buffer.allocUnsafe(raftMessageSize(message)));
  writeRaftMessage(writer, message);
  return writer.finish();
}

/** A RaftEnvelope: the messages in order, one buffer. */
export function encodeRaftEnvelope(messages: readonly Message[]): Buffer {
  const sizes = messages.map(raftMessageSize);
  let total = 0;
  for (const size of sizes) total += delimitedSize(1, size);
  const writer = new WireWriter(Buffer.allocUnsafe(total));
  for (let i = 0; i < messages.length; i++) {
    writer.tag(1, DELIMITED);
    writer.varint32(sizes[i]!);
    writeRaftMessage(writer, messages[i]!);
  }
  return writer.finish();
}

// ---- reading -----------------------------------------------------------------------------

function readEntry(reader: WireReader): Entry {
  const entry: Entry = { term: 0n, index: 0n, type: EntryType.Normal, data: EMPTY_BYTES };
  readFields(reader, (field, wireType) => {
    if (field === 1) entry.term = reader.expect(wireType, VARINT, 'entry.term').uint64();
    else if (field === 2) entry.index = reader.expect(wireType, VARINT, 'entry.index').uint64();
    else if (field === 3) entry.type = entryType(reader.expect(wireType, VARINT, 'entry.type').varint32());
    else if (field === 4) entry.data = reader.expect(wireType, DELIMITED, 'entry.data').bytesCopy();
    else return false;
    return true;
  });
  return entry;
}

function entryType(value: number): EntryTypeValue {
  if (value === EntryType.Normal || value === EntryType.ConfChange) return value;
  throw new WireDecodeError(`unknown entry type ${value}`);
}

function messageType(value: number): MessageTypeValue {
  if (value > MAX_MESSAGE_TYPE) throw new WireDecodeError(`unknown message type ${value}`);
  return value as MessageTypeValue;
}

/** Repeated uint64: accepts packed and unpacked encodings, as protobuf parsers must. */
function readIds(reader: WireReader, wireType: number, into: bigint[]): void {
  if (wireType === VARINT) {
    into.push(reader.uint64());
    return;
  }
  expectWireType(wireType, DELIMITED, 'packed ids');
  const packed = reader.nested();
  while (!packed.done) into.push(packed.uint64());
}

function readConfState(reader: WireReader): ConfState {
  const confState: ConfState = { voters: [], learners: [] };
  readFields(reader, (field, wireType) => {
    if (field === 1) readIds(reader, wireType, confState.voters);
    else if (field === 2) readIds(reader, wireType, confState.learners);
    else return false;
    return true;
  });
  return confState;
}

function readSnapshot(reader: WireReader): Snapshot {
  const snapshot: Snapshot = { data: EMPTY_BYTES, metadata: { index: 0n, term: 0n, confState: { voters: [], learners: [] } } };
  readFields(reader, (field, wireType) => {
    if (field === 1) snapshot.data = reader.expect(wireType, DELIMITED, 'snapshot.data').bytesCopy();
    else if (field === 2) {
      expectWireType(wireType, DELIMITED, 'snapshot.metadata');
      const metadata = reader.nested();
      readFields(metadata, (mField, mWireType) => {
        if (mField === 1) snapshot.metadata.confState = readConfState(metadata.expect(mWireType, DELIMITED, 'conf_state').nested());
        else if (mField === 2) snapshot.metadata.index = metadata.expect(mWireType, VARINT, 'snapshot.index').uint64();
        else if (mField === 3) snapshot.metadata.term = metadata.expect(mWireType, VARINT, 'snapshot.term').uint64();
        else return false;
        return true;
      });
    } else return false;
    return true;
  });
  return snapshot;
}

/** Reads one Message from `reader` (to its end). */
export function readRaftMessage(reader: WireReader): Message {
  const message = newMessage({ type: MessageType.Hup });
  readFields(reader, (field, wireType) => {
    if (field === 7) {
      expectWireType(wireType, DELIMITED, 'entries');
      message.entries.push(readEntry(reader.nested()));
    } else if (field === 9) {
      expectWireType(wireType, DELIMITED, 'snapshot');
      message.snapshot = readSnapshot(reader.nested());
    } else if (field === 12) {
      expectWireType(wireType, DELIMITED, 'context');
      message.context = reader.bytesCopy();
    } else if (field === 1) {
      expectWireType(wireType, VARINT, 'type');
      message.type = messageType(reader.varint32());
    } else if (field === 10) {
      expectWireType(wireType, VARINT, 'reject');
      message.reject = reader.bool();
    } else if (field === 13) {
      expectWireType(wireType, VARINT, 'commit_only');
      if (reader.bool()) message.commitOnly = true;
    } else return readUint64Field(reader, message, field, wireType);
    return true;
  });
  return message;
}

const UINT64_FIELDS: Record<number, 'to' | 'from' | 'term' | 'logTerm' | 'index' | 'commit' | 'rejectHint'> = {
  2: 'to',
  3: 'from',
  4: 'term',
  5: 'logTerm',
  6: 'index',
  8: 'commit',
  11: 'rejectHint',
};

function readUint64Field(reader: WireReader, message: Message, field: number, wireType: number): boolean {
  const name = UINT64_FIELDS[field];
  if (name === undefined) return false;
  expectWireType(wireType, VARINT, name);
  message[name] = reader.uint64();
  return true;
}

export function decodeRaftMessage(bytes: Uint8Array): Message {
  return readRaftMessage(new WireReader(bytes));
}

export function decodeRaftEnvelope(bytes: Uint8Array): Message[] {
  const reader = new WireReader(bytes);
  const messages: Message[] = [];
  readFields(reader, (field, wireType) => {
    if (field !== 1) return false;
    expectWireType(wireType, DELIMITED, 'messages');
    messages.push(readRaftMessage(reader.nested()));
    return true;
  });
  return messages;
}
