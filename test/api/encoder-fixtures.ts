import { messageType } from '../../src/api/codec/proto-root';
import type { ResponseHeader } from '../../src/api/member-port';

/** What protobufjs writes for a wire object (the encoder the hand-written ones replaced). */
export function protobufjsBytes(typeName: string, wire: object): Buffer {
  return Buffer.from(messageType(typeName).encode(wire).finish());
}

/** Headers that exercise the int64 encodings: ordinary, all zero (left out), beyond 2^53, above 2^63. */
export const SAMPLE_HEADERS: readonly ResponseHeader[] = [
  { clusterId: 0xcdef_0123_4567_89abn, memberId: 0x8e9e_05c5_2164_694dn, revision: 1234n, raftTerm: 3n },
  { clusterId: 0n, memberId: 0n, revision: 0n, raftTerm: 0n },
  { clusterId: 1n, memberId: 2n, revision: 2n ** 62n, raftTerm: 2n ** 40n },
];
