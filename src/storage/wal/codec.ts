/**
 * Binary encodings of the Raft values the WAL and the snapshotter persist. Exact sizes,
 * little-endian, 64-bit values as u64 (ByteWriter throws on a negative or oversized bigint).
 */
import type { ConfState, Entry, EntryTypeValue, HardState, NodeId, SnapshotMetadata } from '../../consensus/types';
import { EntryType } from '../../consensus/types';
import { ByteReader, ByteWriter, DecodeError } from './binary';

/** Bounds a decoded voter/learner list so a corrupt count cannot allocate unboundedly. */
const MAX_CONF_STATE_MEMBERS = 10_000;

const ENTRY_HEADER_BYTES = 8 + 8 + 1;

export function encodeEntry(entry: Entry): Uint8Array {
  return new ByteWriter(ENTRY_HEADER_BYTES + entry.data.length)
    .u64(entry.term)
    .u64(entry.index)
    .u8(entry.type)
    .raw(entry.data)
    .finish();
}

export function decodeEntry(bytes: Uint8Array): Entry {
  const reader = new ByteReader(bytes);
  const term = reader.u64();
  const index = reader.u64();
  const type = reader.u8();
  if (type !== EntryType.Normal && type !== EntryType.ConfChange) throw new DecodeError(`unknown entry type ${type}`);
  return { term, index, type: type as EntryTypeValue, data: reader.rest() };
}

export function encodeHardState(hardState: HardState): Uint8Array {
  return new ByteWriter(24).u64(hardState.term).u64(hardState.vote).u64(hardState.commit).finish();
}

export function decodeHardState(bytes: Uint8Array): HardState {
  const reader = new ByteReader(bytes);
  const hardState = { term: reader.u64(), vote: reader.u64(), commit: reader.u64() };
  reader.expectEnd();
  return hardState;
}

export function encodeSnapshotMetadata(metadata: SnapshotMetadata): Uint8Array {
  const { voters, learners } = metadata.confState;
  const writer = new ByteWriter(8 + 8 + 4 + voters.length * 8 + 4 + learners.length * 8);
  writer.u64(metadata.index).u64(metadata.term);
  writeIds(writer, voters);
  writeIds(writer, learners);
  return writer.finish();
}

export function decodeSnapshotMetadata(bytes: Uint8Array): SnapshotMetadata {
  const reader = new ByteReader(bytes);
  const index = reader.u64();
  const term = reader.u64();
  const confState: ConfState = { voters: readIds(reader), learners: readIds(reader) };
  reader.expectEnd();
  return { index, term, confState };
}

function writeIds(writer: ByteWriter, ids: NodeId[]): void {
  if (ids.length > MAX_CONF_STATE_MEMBERS) throw new Error(`conf state with ${ids.length} members`);
  writer.u32(ids.length);
  for (const id of ids) writer.u64(id);
}

function readIds(reader: ByteReader): NodeId[] {
  const count = reader.u32();
  if (count > MAX_CONF_STATE_MEMBERS) throw new DecodeError(`conf state claims ${count} members`);
  const ids: NodeId[] = [];
  for (let i = 0; i < count; i++) ids.push(reader.u64());
  return ids;
}
