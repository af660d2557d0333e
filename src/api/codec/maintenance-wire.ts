import type { AlarmMember, ResponseHeader, SnapshotChunk, StatusResult } from '../member-port';
import { headerToWire } from './kv-responses';
import { int64ToWire, type WireOut } from './wire-scalars';

function setInt64(out: WireOut, field: string, value: bigint): void {
  if (value !== 0n) out[field] = int64ToWire(value);
}

export function statusResponseToWire(h: ResponseHeader, s: StatusResult): WireOut {
  const out: WireOut = { header: headerToWire(h) };
  if (s.version.length > 0) out.version = s.version;
  setInt64(out, 'dbSize', s.dbSize);
  setInt64(out, 'leader', s.leader);
  setInt64(out, 'raftIndex', s.raftIndex);
  setInt64(out, 'raftTerm', s.raftTerm);
  setInt64(out, 'raftAppliedIndex', s.raftAppliedIndex);
  if (s.errors.length > 0) out.errors = s.errors;
  setInt64(out, 'dbSizeInUse', s.dbSizeInUse);
  if (s.isLearner) out.isLearner = true;
  return out;
}

export function hashResponseToWire(h: ResponseHeader, hash: number): WireOut {
  const out: WireOut = { header: headerToWire(h) };
  if (hash !== 0) out.hash = hash >>> 0;
  return out;
}

export function hashKVResponseToWire(h: ResponseHeader, hash: number, compactRevision: bigint): WireOut {
  const out = hashResponseToWire(h, hash);
  setInt64(out, 'compact_revision', compactRevision);
  return out;
}

export function snapshotResponseToWire(h: ResponseHeader, chunk: SnapshotChunk): WireOut {
  const out: WireOut = { header: headerToWire(h) };
  setInt64(out, 'remaining_bytes', chunk.remainingBytes);
  if (chunk.blob.length > 0) out.blob = chunk.blob;
  return out;
}

/** etcd 3.4 sends Alarm responses without a header. */
export function alarmResponseToWire(alarms: AlarmMember[]): WireOut {
  const out: WireOut = {};
  if (alarms.length > 0) {
    out.alarms = alarms.map((a) => {
      const member: WireOut = {};
      setInt64(member, 'memberID', a.memberId);
      if (a.alarm !== 0) member.alarm = a.alarm;
      return member;
    });
  }
  return out;
}
