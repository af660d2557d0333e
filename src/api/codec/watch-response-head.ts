import type { WatchResponse } from '../../storage/mvcc/watch/types';
import type { ResponseHeader } from '../member-port';
import { WireType, WireWriter, delimitedSize, tagSize, uint64Size } from '../../transport/codec/wire-writer';

/**
 * etcdserverpb.WatchResponse without its events, encoded by hand: one event fanned out to
 * N watchers needs N of these (only watch_id differs), and protobufjs built an object tree
 * and walked it for each — a tenth of a member's CPU in the 100-watcher benchmark. The
 * bytes are the ones protobufjs writes for the same fields (field order, zero values
 * left out, int64 as two's complement varints); a test holds the two side by side.
 */

const HEADER = 1;
const WATCH_ID = 2;
const CREATED = 3;
const CANCELED = 4;
const COMPACT_REVISION = 5;
const CANCEL_REASON = 6;
const FRAGMENT = 7;

const CLUSTER_ID = 1;
const MEMBER_ID = 2;
const REVISION = 3;
const RAFT_TERM = 4;

/** int64 on the wire: negative values as their 64-bit two's complement. */
function asUint64(value: bigint): bigint {
  return value < 0n ? BigInt.asUintN(64, value) : value;
}

function varintFieldSize(field: number, value: bigint): number {
  return value === 0n ? 0 : tagSize(field) + uint64Size(asUint64(value));
}

function writeVarintField(writer: WireWriter, field: number, value: bigint): void {
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

/** Field 1 (header) as a length-delimited record. */
function headerRecord(h: ResponseHeader): Buffer {
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

/**
 * Fields 1–7 of a WatchResponse (everything but the events, field 11, which follow in the
 * same message), with `fragment` set as given.
 */
export function encodeWatchResponseHead(header: ResponseHeader, r: WatchResponse, fragment: boolean): Buffer {
  const head = headerRecord(header);
  const reason = r.cancelReason.length > 0 ? Buffer.from(r.cancelReason, 'utf8') : undefined;
  const size =
    head.length +
    varintFieldSize(WATCH_ID, r.watchId) +
    (r.created ? tagSize(CREATED) + 1 : 0) +
    (r.canceled ? tagSize(CANCELED) + 1 : 0) +
    varintFieldSize(COMPACT_REVISION, r.compactRevision) +
    (reason === undefined ? 0 : delimitedSize(CANCEL_REASON, reason.length)) +
    (fragment ? tagSize(FRAGMENT) + 1 : 0);
  const writer = new WireWriter(Buffer.allocUnsafe(size));
  writer.buf.set(head, 0);
  writer.pos = head.length;
  writeVarintField(writer, WATCH_ID, r.watchId);
  if (r.created) writer.tag(CREATED, WireType.Varint).varint32(1);
  if (r.canceled) writer.tag(CANCELED, WireType.Varint).varint32(1);
  writeVarintField(writer, COMPACT_REVISION, r.compactRevision);
  if (reason !== undefined) writer.tag(CANCEL_REASON, WireType.LengthDelimited).bytes(reason);
  if (fragment) writer.tag(FRAGMENT, WireType.Varint).varint32(1);
  return writer.finish();
}
