import type { MemberInfo, ResponseHeader } from '../member-port';
import { headerWithoutRevisionToWire } from './kv-responses';
import { int64ToWire, wireBool, wireString, wireUint64, type Wire, type WireOut } from './wire-scalars';

/** Bound on URLs accepted in one member request. */
const MAX_URLS = 64;

export function memberToWire(m: MemberInfo): WireOut {
  const out: WireOut = {};
  if (m.id !== 0n) out.ID = int64ToWire(m.id);
  if (m.name.length > 0) out.name = m.name;
  if (m.peerUrls.length > 0) out.peerURLs = m.peerUrls;
  if (m.clientUrls.length > 0) out.clientURLs = m.clientUrls;
  if (m.isLearner) out.isLearner = true;
  return out;
}

/** Member responses carry cluster_id, member_id and raft_term but no revision. */
export function membersResponseToWire(h: ResponseHeader, members: MemberInfo[]): WireOut {
  const out: WireOut = { header: headerWithoutRevisionToWire(h) };
  if (members.length > 0) out.members = members.map(memberToWire);
  return out;
}

export function memberAddResponseToWire(h: ResponseHeader, member: MemberInfo, members: MemberInfo[]): WireOut {
  const out = membersResponseToWire(h, members);
  out.member = memberToWire(member);
  return out;
}

export function urlsFromWire(value: Wire): string[] {
  return Array.isArray(value) ? value.slice(0, MAX_URLS).map(wireString) : [];
}

export function memberAddFromWire(w: Wire): { peerUrls: string[]; isLearner: boolean } {
  return { peerUrls: urlsFromWire(w.peerURLs), isLearner: wireBool(w.isLearner) };
}

export function memberIdFromWire(w: Wire): bigint {
  return wireUint64(w.ID);
}
