import type { MemberInfo } from '../api/member-port';

/**
 * What a ConfChange entry carries for the application: the member record it concerns and
 * the request id its proposer waits on (0 for bootstrap entries). JSON, with 64-bit ids as
 * decimal strings.
 */
export interface ConfChangeContext {
  requestId: bigint;
  member: MemberInfo;
}

interface StoredContext {
  requestId: string;
  member: { id: string; name: string; peerUrls: string[]; clientUrls: string[]; isLearner: boolean };
}

export function encodeConfChangeContext(context: ConfChangeContext): Uint8Array {
  const stored: StoredContext = {
    requestId: context.requestId.toString(),
    member: { ...context.member, id: context.member.id.toString() },
  };
  return Buffer.from(JSON.stringify(stored));
}

export function decodeConfChangeContext(bytes: Uint8Array): ConfChangeContext {
  const stored = JSON.parse(Buffer.from(bytes).toString('utf8')) as StoredContext;
  return { requestId: BigInt(stored.requestId), member: { ...stored.member, id: BigInt(stored.member.id) } };
}
