/** Public surface of the peer transport. */
export type { PeerAddress, PeerHandler, PeerTransport } from './types';
export { GrpcPeerTransport, type GrpcPeerTransportOptions } from './grpc-peer-transport';
export { PeerCallError } from './unary-call';
export { encodeRaftMessage, decodeRaftMessage, encodeRaftEnvelope, decodeRaftEnvelope } from './codec/raft-message-codec';
export { WireDecodeError } from './codec/wire-reader';
export { peerAddressOf } from './peer-urls';
export type { PeerRemovalHooks } from './removal-hooks';
export { MEMBER_REMOVED_DETAILS } from './peer-metadata';
export type { TimeToLiveAnswer, TimeToLiveQuery } from './codec/lease-time-to-live-codec';
