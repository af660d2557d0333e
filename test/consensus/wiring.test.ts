import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import * as protobuf from 'protobufjs';
import { MemoryStorage, MessageType, ProposalDroppedError, RawNode, StepLocalMessageError, type RaftLogger } from '../../src/consensus';
import { silentLogger } from '../../src/log';
import { protoDir } from '../../src/paths';
import { bytes, seededRandom } from './harness';

test('a pino logger can be passed as the Raft logger', () => {
  const logger: RaftLogger = silentLogger().child({ component: 'raft' });
  const storage = new MemoryStorage();
  RawNode.bootstrap(storage, [1n]);
  const node = new RawNode({
    id: 1n, electionTicks: 10, heartbeatTicks: 1, storage, applied: 0n, random: seededRandom(1),
    preVote: true, checkQuorum: true, maxInflightMessages: 8, maxEntriesBytesPerMessage: 1024, logger,
  });
  node.campaign();
  assert.equal(node.status().state, 'leader');
});

test('raftpb.proto message types match MessageType', () => {
  const root = protobuf.loadSync(path.join(protoDir(), 'raft', 'raftpb.proto'));
  const protoEnum = root.lookupEnum('latchkeyraftpb.MessageType').values;
  for (const [name, value] of Object.entries(MessageType)) {
    const protoName = 'MSG_' + name.replace(/([a-z])([A-Z])/g, '$1_$2').toUpperCase();
    assert.equal(protoEnum[protoName], value, protoName);
  }
  assert.equal(Object.keys(protoEnum).length, Object.keys(MessageType).length);
});

test('a leader bounds uncommitted proposal bytes when it cannot commit', () => {
  const storage = new MemoryStorage();
  RawNode.bootstrap(storage, [1n, 2n, 3n]);
  const node = new RawNode({
    id: 1n, electionTicks: 10, heartbeatTicks: 1, storage, applied: 0n, random: seededRandom(1),
    preVote: false, checkQuorum: false, maxInflightMessages: 8, maxEntriesBytesPerMessage: 1024,
    maxUncommittedEntriesBytes: 100,
  });
  node.campaign();
  for (const id of [2n, 3n]) node.step({ ...voteGranted, from: id });
  assert.equal(node.status().state, 'leader');
  for (let i = 0; i < 10; i++) node.propose(new Uint8Array(10));
  assert.throws(() => node.propose(bytes('one too many')), ProposalDroppedError);
});

const voteGranted = {
  type: MessageType.VoteResp, to: 1n, from: 0n, term: 2n, logTerm: 0n, index: 0n, entries: [], commit: 0n,
  reject: false, rejectHint: 0n, context: new Uint8Array(0),
};

test('misuse is caught loudly: local messages from the network, ready() twice, advance() without ready()', () => {
  const storage = new MemoryStorage();
  RawNode.bootstrap(storage, [1n]);
  const node = new RawNode({
    id: 1n, electionTicks: 10, heartbeatTicks: 1, storage, applied: 0n, random: seededRandom(1),
    preVote: false, checkQuorum: false, maxInflightMessages: 8, maxEntriesBytesPerMessage: 1024,
  });
  assert.throws(() => node.step({ ...voteGranted, type: MessageType.Hup }), StepLocalMessageError);
  node.campaign();
  const rd = node.ready();
  assert.throws(() => node.ready(), /before advance/);
  node.advance(rd);
  assert.throws(() => node.advance(rd), /without a preceding ready/);
  assert.throws(() => new RawNode({ ...baseConfig(storage), electionTicks: 1 }), /electionTicks/);
});

function baseConfig(storage: MemoryStorage) {
  return {
    id: 2n, electionTicks: 10, heartbeatTicks: 1, storage, applied: 0n, random: seededRandom(1),
    preVote: false, checkQuorum: false, maxInflightMessages: 8, maxEntriesBytesPerMessage: 1024,
  };
}
