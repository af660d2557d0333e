import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { ConfChangeType, decodeConfChange, encodeConfChange, EntryType, MemoryStorage, ProposalDroppedError, RawNode, type RaftConfig } from '../../src/consensus';
import { bytes, seededRandom, text } from './harness';

function config(storage: MemoryStorage, applied = 0n): RaftConfig {
  return {
    id: 1n,
    electionTicks: 10,
    heartbeatTicks: 1,
    storage,
    applied,
    random: seededRandom(7),
    preVote: false,
    checkQuorum: false,
    maxInflightMessages: 256,
    maxEntriesBytesPerMessage: 1024 * 1024,
  };
}

/** Persists and applies one Ready like the member loop; returns the applied data. */
function cycle(node: RawNode, storage: MemoryStorage): { applied: string[]; reads: bigint[]; messages: number } {
  const rd = node.ready();
  if (rd.hardState) storage.setHardState(rd.hardState);
  storage.append(rd.entries);
  const applied = rd.committedEntries.filter((e) => e.type === EntryType.Normal && e.data.length > 0).map((e) => text(e.data));
  const reads = rd.readStates.map((r) => r.index);
  node.advance(rd);
  return { applied, reads, messages: rd.messages.length };
}

describe('single-member cluster', () => {
  test('campaign() makes the only voter leader and it commits an empty entry of its term', () => {
    const storage = new MemoryStorage();
    RawNode.bootstrap(storage, [1n]);
    const node = new RawNode(config(storage));
    assert.equal(node.status().state, 'follower');
    node.campaign();
    assert.equal(node.status().state, 'leader');
    assert.ok(node.hasReady());
    const rd = node.ready();
    assert.deepEqual(rd.softState, { lead: 1n, state: 'leader' });
    assert.equal(rd.hardState?.term, 2n);
    assert.equal(rd.hardState?.vote, 1n);
    assert.equal(rd.entries.length, 1);
    assert.equal(rd.entries[0].index, 2n);
    assert.equal(rd.committedEntries.length, 1);
    assert.equal(rd.messages.length, 0);
    assert.equal(rd.mustSync, true);
    storage.setHardState(rd.hardState!);
    storage.append(rd.entries);
    node.advance(rd);
    assert.equal(node.hasReady(), false);
    assert.equal(node.status().applied, 2n);
  });

  test('an election timeout of ticks elects the single voter without campaign()', () => {
    const storage = new MemoryStorage();
    RawNode.bootstrap(storage, [1n]);
    const node = new RawNode(config(storage));
    for (let i = 0; i < 20 && node.status().state !== 'leader'; i++) node.tick();
    assert.equal(node.status().state, 'leader');
  });

  test('proposals commit and are applied in the next Ready, in order', () => {
    const storage = new MemoryStorage();
    RawNode.bootstrap(storage, [1n]);
    const node = new RawNode(config(storage));
    node.campaign();
    cycle(node, storage);
    node.propose(bytes('a'));
    node.propose(bytes('b'));
    const out = cycle(node, storage);
    assert.deepEqual(out.applied, ['a', 'b']);
    assert.equal(node.status().commit, 4n);
    assert.equal(storage.lastIndex(), 4n);
  });

  test('propose without a leader throws ProposalDroppedError', () => {
    const storage = new MemoryStorage();
    RawNode.bootstrap(storage, [1n]);
    const node = new RawNode(config(storage));
    assert.throws(() => node.propose(bytes('x')), ProposalDroppedError);
  });

  test('ReadIndex answers immediately with the commit index', () => {
    const storage = new MemoryStorage();
    RawNode.bootstrap(storage, [1n]);
    const node = new RawNode(config(storage));
    node.campaign();
    cycle(node, storage);
    node.propose(bytes('a'));
    node.readIndex(bytes('r1'));
    const rd = node.ready();
    assert.equal(rd.readStates.length, 1);
    assert.equal(rd.readStates[0].index, 3n);
    assert.equal(text(rd.readStates[0].context), 'r1');
    storage.append(rd.entries);
    node.advance(rd);
  });

  test('restart from persisted hard state and entries keeps the log and does not re-apply', () => {
    const storage = new MemoryStorage();
    RawNode.bootstrap(storage, [1n]);
    const node = new RawNode(config(storage));
    node.campaign();
    cycle(node, storage);
    node.propose(bytes('a'));
    node.propose(bytes('b'));
    cycle(node, storage);
    // Rebuild storage as a member would from its WAL.
    const restored = new MemoryStorage();
    restored.applySnapshot(storage.snapshot());
    restored.setHardState(storage.initialState().hardState);
    restored.append(storage.entries(storage.firstIndex(), storage.lastIndex() + 1n, Number.MAX_SAFE_INTEGER));
    const again = new RawNode(config(restored, 3n));
    assert.equal(again.status().commit, 4n);
    assert.equal(again.status().term, 2n);
    // Entry 4 ('b') was committed but not applied (applied = 3): it is delivered again.
    const rd = again.ready();
    assert.deepEqual(rd.committedEntries.map((e) => text(e.data)), ['b']);
    again.advance(rd);
    again.campaign();
    const out = cycle(again, restored);
    assert.equal(again.status().state, 'leader');
    assert.equal(again.status().term, 3n);
    again.propose(bytes('c'));
    assert.deepEqual(cycle(again, restored).applied, ['c']);
    assert.ok(out.messages === 0);
  });
});

describe('etcd-style bootstrap (committed AddNode entries at term 1)', () => {
  function bootstrapWithEntries(storage: MemoryStorage, voters: bigint[]): void {
    storage.append(
      voters.map((nodeId, i) => ({
        term: 1n,
        index: BigInt(i + 1),
        type: EntryType.ConfChange,
        data: encodeConfChange({ type: ConfChangeType.AddNode, nodeId, context: new Uint8Array(0) }),
      })),
    );
    storage.setHardState({ term: 1n, vote: 0n, commit: BigInt(voters.length) });
  }

  test('the voter set comes from applying the entries; campaign() works after advance()', () => {
    const storage = new MemoryStorage();
    bootstrapWithEntries(storage, [1n]);
    const node = new RawNode(config(storage));
    const rd = node.ready();
    assert.equal(rd.committedEntries.length, 1);
    const cs = node.applyConfChange(decodeConfChange(rd.committedEntries[0].data));
    assert.deepEqual(cs, { voters: [1n], learners: [] });
    // Raft refuses to campaign while a committed conf change is not yet applied (advanced).
    node.campaign();
    assert.equal(node.status().state, 'follower');
    node.advance(rd);
    node.campaign();
    assert.equal(node.status().state, 'leader');
    node.propose(bytes('a'));
    assert.deepEqual(cycle(node, storage).applied, ['a']);
  });
});
