import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import * as protobuf from 'protobufjs';
import fc from 'fast-check';
import { EntryType, MessageType, newMessage, type Message, type MessageTypeValue } from '../../src/consensus';
import { protoDir } from '../../src/paths';
import { WireDecodeError, decodeRaftEnvelope, decodeRaftMessage, encodeRaftEnvelope, encodeRaftMessage } from '../../src/transport';
import {
  decodeClusterInfo,
  decodeSingleInt64,
  decodeSnapshotChunk,
  encodeClusterInfo,
  encodeSingleUint64,
  encodeSnapshotChunk,
} from '../../src/transport/codec/peer-codec';
import {
  decodeTimeToLiveAnswer,
  decodeTimeToLiveQuery,
  encodeTimeToLiveAnswer,
  encodeTimeToLiveQuery,
} from '../../src/transport/codec/lease-time-to-live-codec';

const U64_MAX = 0xffffffffffffffffn;
const TWO_63 = 1n << 63n;

function raftpbRoot(): protobuf.Root {
  const root = protobuf.loadSync(path.join(protoDir(), 'raft', 'raftpb.proto'));
  root.resolveAll();
  return root;
}

/** Byte fields as Buffers (what the decoder yields), so deepEqual compares contents only. */
function normalize(message: Message): Message {
  const source = message.snapshot;
  const snapshot =
    source === undefined
      ? undefined
      : {
          data: Buffer.from(source.data),
          metadata: {
            index: source.metadata.index,
            term: source.metadata.term,
            confState: { voters: [...source.metadata.confState.voters], learners: [...source.metadata.confState.learners] },
          },
        };
  return {
    ...message,
    context: Buffer.from(message.context),
    entries: message.entries.map((e) => ({ term: e.term, index: e.index, type: e.type, data: Buffer.from(e.data) })),
    ...(snapshot === undefined ? {} : { snapshot }),
  };
}

function roundTrip(message: Message): void {
  assert.deepEqual(normalize(decodeRaftMessage(encodeRaftMessage(message))), normalize(message));
}

/** Every byte value, so a codec that treats data as text would fail. */
const ALL_BYTES = Uint8Array.from({ length: 256 }, (_, i) => i);

function richMessage(type: MessageTypeValue): Message {
  return newMessage({
    type,
    to: U64_MAX,
    from: TWO_63 + 7n,
    term: 0xffffffffn + 1n,
    logTerm: 127n,
    index: 128n,
    commit: 1n << 56n,
    reject: true,
    rejectHint: TWO_63,
    context: Buffer.from('CampaignTransfer'),
    entries: [
      { term: 1n, index: 1n, type: EntryType.Normal, data: new Uint8Array(0) },
      { term: 2n, index: U64_MAX, type: EntryType.ConfChange, data: ALL_BYTES },
    ],
  });
}

describe('Raft message codec', () => {
  test('every message type round-trips with large ids, entries, reject flag and context', () => {
    for (const type of Object.values(MessageType)) {
      const message = richMessage(type);
      roundTrip(message);
    }
  });

  test('an all-zero message encodes to nothing and decodes back', () => {
    const message = newMessage({ type: MessageType.Hup });
    assert.equal(encodeRaftMessage(message).length, 0);
    assert.deepEqual(normalize(decodeRaftMessage(new Uint8Array(0))), normalize(message));
  });

  test('a MsgSnap keeps its snapshot metadata, conf state and payload', () => {
    const message = newMessage({
      type: MessageType.Snap,
      from: 1n,
      to: TWO_63 + 1n,
      term: 9n,
      snapshot: {
        data: ALL_BYTES,
        metadata: { index: 1_000_000n, term: 9n, confState: { voters: [1n, U64_MAX, TWO_63], learners: [0xfedcba9876543210n] } },
      },
    });
    roundTrip(message);
  });

  test('an empty snapshot (no data, no members) is still present after decoding', () => {
    const message = newMessage({
      type: MessageType.Snap,
      snapshot: { data: new Uint8Array(0), metadata: { index: 0n, term: 0n, confState: { voters: [], learners: [] } } },
    });
    roundTrip(message);
  });

  test('ids outside uint64 are refused when encoding', () => {
    assert.throws(() => encodeRaftMessage(newMessage({ type: MessageType.App, to: -1n })), RangeError);
    assert.throws(() => encodeRaftMessage(newMessage({ type: MessageType.App, term: U64_MAX + 1n })), RangeError);
  });

  test('an envelope keeps message order', () => {
    const messages = Array.from({ length: 100 }, (_, i) => newMessage({ type: MessageType.Heartbeat, from: 1n, to: 2n, commit: BigInt(i) }));
    assert.deepEqual(decodeRaftEnvelope(encodeRaftEnvelope(messages)).map(normalize), messages.map(normalize));
    assert.deepEqual(decodeRaftEnvelope(encodeRaftEnvelope([])), []);
  });

  test('decoded entry data does not alias the received frame', () => {
    const frame = encodeRaftMessage(richMessage(MessageType.App));
    const decoded = decodeRaftMessage(frame);
    frame.fill(0);
    assert.deepEqual(decoded.entries[1]!.data, Buffer.from(ALL_BYTES));
  });

  test('truncated or malformed frames are refused, not misread', () => {
    const frame = encodeRaftMessage(richMessage(MessageType.App));
    for (const cut of [1, 5, 20, frame.length - 1]) {
      assert.throws(() => decodeRaftMessage(frame.subarray(0, cut)), WireDecodeError, `cut at ${cut}`);
    }
    assert.throws(() => decodeRaftMessage(Buffer.from([0x08, 19])), /unknown message type/);
    assert.throws(() => decodeRaftMessage(Buffer.from([0x12, 0x01])), /wire type/);
    assert.throws(() => decodeRaftMessage(Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01])), WireDecodeError);
  });

  test('bytes are the ones protobufjs reads and writes for raftpb.proto', () => {
    const Message = raftpbRoot().lookupType('latchkeyraftpb.Message');
    const message = richMessage(MessageType.Snap);
    message.snapshot = { data: ALL_BYTES, metadata: { index: 5n, term: 2n, confState: { voters: [1n, U64_MAX], learners: [3n] } } };
    const viaProtobufjs = Message.toObject(Message.decode(encodeRaftMessage(message)), { longs: String, bytes: Array });
    assert.equal(viaProtobufjs.to, U64_MAX.toString());
    assert.equal(viaProtobufjs.from, (TWO_63 + 7n).toString());
    assert.equal(viaProtobufjs.rejectHint, TWO_63.toString());
    assert.equal(viaProtobufjs.reject, true);
    assert.deepEqual(viaProtobufjs.entries[1].data, Array.from(ALL_BYTES));
    assert.equal(viaProtobufjs.entries[1].index, U64_MAX.toString());
    assert.deepEqual(viaProtobufjs.snapshot.metadata.confState.voters, ['1', U64_MAX.toString()]);
    // And back: protobufjs' own encoding (including its choice of packing) decodes to the same message.
    const reencoded = Message.encode(Message.decode(encodeRaftMessage(message))).finish();
    assert.deepEqual(normalize(decodeRaftMessage(reencoded)), normalize(message));
  });

  test('commit_only (field 13) round-trips, is what protobufjs reads, and is absent unless set', () => {
    const message = newMessage({ type: MessageType.App, to: 2n, from: 1n, term: 3n, index: 9n, logTerm: 3n, commit: 9n, commitOnly: true });
    roundTrip(message);
    const Message = raftpbRoot().lookupType('latchkeyraftpb.Message');
    assert.equal(Message.toObject(Message.decode(encodeRaftMessage(message))).commitOnly, true);
    const plain = decodeRaftMessage(encodeRaftMessage({ ...message, commitOnly: false }));
    assert.equal('commitOnly' in plain, false, 'a decoded message without the flag has no such property');
  });

  test('unpacked repeated ids (older encoders) decode too', () => {
    // ConfState.voters = [1, 2] unpacked inside Snapshot.metadata inside Message.snapshot
    const confState = Buffer.from([0x08, 0x01, 0x08, 0x02]);
    const metadata = Buffer.concat([Buffer.from([0x0a, confState.length]), confState]);
    const snapshot = Buffer.concat([Buffer.from([0x12, metadata.length]), metadata]);
    const frame = Buffer.concat([Buffer.from([0x08, MessageType.Snap, 0x4a, snapshot.length]), snapshot]);
    assert.deepEqual(decodeRaftMessage(frame).snapshot?.metadata.confState.voters, [1n, 2n]);
  });

  test('property: any message round-trips (seed printed on failure)', () => {
    const u64 = fc.bigInt({ min: 0n, max: U64_MAX });
    const bytes = fc.uint8Array({ maxLength: 64 });
    const entry = fc.record({ term: u64, index: u64, type: fc.constantFrom(EntryType.Normal, EntryType.ConfChange), data: bytes });
    const snapshot = fc.record({
      data: bytes,
      metadata: fc.record({ index: u64, term: u64, confState: fc.record({ voters: fc.array(u64, { maxLength: 5 }), learners: fc.array(u64, { maxLength: 3 }) }) }),
    });
    const message = fc
      .record({
        type: fc.constantFrom(...Object.values(MessageType)),
        to: u64,
        from: u64,
        term: u64,
        logTerm: u64,
        index: u64,
        entries: fc.array(entry, { maxLength: 5 }),
        commit: u64,
        snapshot: fc.option(snapshot, { nil: undefined }),
        reject: fc.boolean(),
        rejectHint: u64,
        context: bytes,
      })
      .map((fields) => {
        const { snapshot: snap, ...rest } = fields;
        return snap === undefined ? newMessage(rest) : newMessage({ ...rest, snapshot: snap });
      });
    fc.assert(
      fc.property(fc.array(message, { maxLength: 4 }), (messages) => {
        assert.deepEqual(decodeRaftEnvelope(encodeRaftEnvelope(messages)).map(normalize), messages.map(normalize));
      }),
      { numRuns: 300 },
    );
  });
});

describe('peer service codec', () => {
  test('snapshot chunks round-trip: MsgSnap, data and trailer', () => {
    const message = newMessage({
      type: MessageType.Snap,
      from: 2n,
      to: 3n,
      snapshot: { data: Buffer.from('payload'), metadata: { index: 10n, term: 2n, confState: { voters: [2n, 3n], learners: [] } } },
    });
    const first = decodeSnapshotChunk(encodeSnapshotChunk({ kind: 'message', message }));
    assert.equal(first.kind, 'message');
    assert.deepEqual(first.kind === 'message' ? normalize(first.message) : undefined, normalize(message));
    const data = decodeSnapshotChunk(encodeSnapshotChunk({ kind: 'data', data: ALL_BYTES }));
    assert.equal(data.kind, 'data');
    assert.deepEqual(data.kind === 'data' ? Uint8Array.from(data.data) : undefined, ALL_BYTES);
    const trailer = { kind: 'trailer' as const, sha256: Buffer.alloc(32, 7), length: 20n * 1024n * 1024n };
    assert.deepEqual(decodeSnapshotChunk(encodeSnapshotChunk(trailer)), trailer);
  });

  test('a chunk that sets two parts is refused', () => {
    const both = Buffer.concat([encodeSnapshotChunk({ kind: 'data', data: ALL_BYTES }), encodeSnapshotChunk({ kind: 'trailer', sha256: new Uint8Array(32), length: 1n })]);
    assert.throws(() => decodeSnapshotChunk(both), /more than one part/);
  });

  test('lease ids and TTLs keep their sign (int64)', () => {
    for (const value of [0n, 1n, -1n, (1n << 63n) - 1n, -(1n << 63n), 0x694d77a1a2b3c4d5n]) {
      assert.equal(decodeSingleInt64(encodeSingleUint64(value)), value);
    }
    const Forward = raftpbRoot().lookupType('latchkeyraftpb.LeaseKeepAliveForward');
    const viaProtobufjs = Forward.toObject(Forward.decode(encodeSingleUint64(-5n)), { longs: String });
    assert.equal(viaProtobufjs.leaseId, '-5');
  });

  test('cluster info round-trips and matches raftpb.proto', () => {
    const info = {
      clusterId: U64_MAX - 1n,
      members: [
        { id: TWO_63 + 2n, name: 'infra1', peerUrls: ['http://127.0.0.1:2380'], clientUrls: ['http://127.0.0.1:2379', 'http://10.0.0.1:2379'], isLearner: false },
        { id: 5n, name: 'ünïcode', peerUrls: [], clientUrls: [], isLearner: true },
      ],
    };
    const bytes = encodeClusterInfo(info);
    assert.deepEqual(decodeClusterInfo(bytes), info);
    const Response = raftpbRoot().lookupType('latchkeyraftpb.ClusterInfoResponse');
    const viaProtobufjs = Response.toObject(Response.decode(bytes), { longs: String });
    assert.equal(viaProtobufjs.clusterId, info.clusterId.toString());
    assert.equal(viaProtobufjs.members[1].name, 'ünïcode');
    assert.equal(viaProtobufjs.members[1].isLearner, true);
    assert.deepEqual(viaProtobufjs.members[0].clientUrls, info.members[0]!.clientUrls);
  });

  test('TimeToLive forwards and answers round-trip and match raftpb.proto', () => {
    for (const query of [{ leaseId: 0n, withKeys: false }, { leaseId: -(1n << 63n), withKeys: true }, { leaseId: 0x694d77a1a2b3c4d5n, withKeys: false }]) {
      assert.deepEqual(decodeTimeToLiveQuery(encodeTimeToLiveQuery(query)), query);
    }
    const Query = raftpbRoot().lookupType('latchkeyraftpb.LeaseTimeToLiveForward');
    assert.deepEqual(Query.toObject(Query.decode(encodeTimeToLiveQuery({ leaseId: -5n, withKeys: true })), { longs: String }), { leaseId: '-5', keys: true });

    const answer = { ttlSeconds: -1n, grantedTtlSeconds: 30n, keys: [Buffer.from('a/key'), Buffer.alloc(0), Buffer.from([0, 255])] };
    const bytes = encodeTimeToLiveAnswer(answer);
    assert.deepEqual(decodeTimeToLiveAnswer(bytes), answer, 'an empty key keeps its place');
    const Answer = raftpbRoot().lookupType('latchkeyraftpb.LeaseTimeToLiveForwardResponse');
    const viaProtobufjs = Answer.toObject(Answer.decode(bytes), { longs: String });
    assert.equal(viaProtobufjs.ttl, '-1');
    assert.equal(viaProtobufjs.grantedTtl, '30');
    assert.deepEqual(viaProtobufjs.keys.map((k: Uint8Array) => Buffer.from(k)), answer.keys);
    assert.deepEqual(decodeTimeToLiveAnswer(Buffer.alloc(0)), { ttlSeconds: 0n, grantedTtlSeconds: 0n, keys: [] });
  });
});
