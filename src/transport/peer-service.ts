import type { ChannelOptions, MethodDefinition, ServiceDefinition } from '@grpc/grpc-js';

/**
 * The latchkeyraftpb.Peer service (proto/raft/raftpb.proto) for grpc-js. Payloads cross
 * grpc-js as raw Buffers: the handlers and callers encode and decode with the codec in
 * ./codec, so a malformed frame becomes a refused call rather than a grpc-js INTERNAL.
 */
export const PEER_SERVICE = 'latchkeyraftpb.Peer';

export const PeerMethod = {
  Stream: `/${PEER_SERVICE}/Stream`,
  Snapshot: `/${PEER_SERVICE}/Snapshot`,
  LeaseKeepAlive: `/${PEER_SERVICE}/LeaseKeepAlive`,
  ClusterInfo: `/${PEER_SERVICE}/ClusterInfo`,
  LeaseTimeToLive: `/${PEER_SERVICE}/LeaseTimeToLive`,
} as const;

export const passBuffer = (bytes: Buffer): Buffer => bytes;

function method(path: string, requestStream: boolean, responseStream: boolean): MethodDefinition<Buffer, Buffer> {
  return {
    path,
    requestStream,
    responseStream,
    requestSerialize: passBuffer,
    requestDeserialize: passBuffer,
    responseSerialize: passBuffer,
    responseDeserialize: passBuffer,
  };
}

export const peerServiceDefinition: ServiceDefinition = {
  Stream: method(PeerMethod.Stream, true, true),
  Snapshot: method(PeerMethod.Snapshot, true, false),
  LeaseKeepAlive: method(PeerMethod.LeaseKeepAlive, false, false),
  ClusterInfo: method(PeerMethod.ClusterInfo, false, false),
  LeaseTimeToLive: method(PeerMethod.LeaseTimeToLive, false, false),
};

/** Largest frame a member accepts from a peer: an append batch or one snapshot chunk. */
export const MAX_PEER_FRAME_BYTES = 64 * 1024 * 1024;

/**
 * Keepalive pings find a peer that vanished without closing its sockets (a heartbeat
 * stream only writes, so nothing else would notice).
 */
const KEEPALIVE: ChannelOptions = {
  'grpc.keepalive_time_ms': 10_000,
  'grpc.keepalive_timeout_ms': 5_000,
  'grpc.keepalive_permit_without_calls': 1,
};

export const serverOptions: ChannelOptions = {
  ...KEEPALIVE,
  'grpc.max_receive_message_length': MAX_PEER_FRAME_BYTES,
  'grpc.max_send_message_length': MAX_PEER_FRAME_BYTES,
};

/**
 * Every client gets its own subchannel pool, hence its own TCP connection: the snapshot
 * pipeline never shares HTTP/2 flow control with heartbeats, and a fresh client after a
 * failure dials at once instead of waiting out a shared subchannel's backoff.
 */
export const clientOptions: ChannelOptions = {
  ...KEEPALIVE,
  // Nothing reads channelz here; its tracing costs CPU on every call and message. (The peer
  // server keeps it on: grpc-js' forceShutdown only finds sessions through channelz, and
  // close() relies on it to cut peers' long-lived streams.)
  'grpc.enable_channelz': 0,
  'grpc.use_local_subchannel_pool': 1,
  'grpc.max_receive_message_length': MAX_PEER_FRAME_BYTES,
  'grpc.max_send_message_length': MAX_PEER_FRAME_BYTES,
  'grpc.initial_reconnect_backoff_ms': 50,
  'grpc.max_reconnect_backoff_ms': 2_000,
};
