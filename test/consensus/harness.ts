/**
 * A tiny deterministic cluster for Raft tests (in the style of etcd raft's network tests):
 * RawNodes with seeded random, an in-memory message queue, partitions and drop rules, and
 * safety checks (one leader per term, applied logs agree) after every delivery.
 */
import assert from 'node:assert/strict';
import {
  decodeConfChange,
  EntryType,
  MemoryStorage,
  MessageType,
  messageTypeName,
  RawNode,
  type Entry,
  type Message,
  type MessageTypeValue,
  type NodeId,
  type RaftConfig,
  type Ready,
} from '../../src/consensus';

/** mulberry32: a small seeded PRNG in [0, 1). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);
export const text = (b: Uint8Array): string => new TextDecoder().decode(b);

export interface NodeOptions {
  preVote?: boolean;
  checkQuorum?: boolean;
  electionTicks?: number;
  maxInflightMessages?: number;
  maxEntriesBytesPerMessage?: number;
}

export class TestNode {
  readonly applied: Entry[] = [];
  /** The state machine: the data of applied non-empty normal entries. */
  state: string[] = [];
  appliedIndex = 0n;
  readonly readStates: { index: bigint; context: string }[] = [];
  node: RawNode;
  /** Snapshot data the state machine was restored from (if any). */
  restoredFrom: bigint | undefined;

  constructor(
    readonly id: NodeId,
    readonly storage: MemoryStorage,
    readonly config: RaftConfig,
  ) {
    this.node = new RawNode(config);
  }

  /** Runs one ready/advance cycle, returning the outgoing messages. */
  handleReady(): Message[] {
    if (!this.node.hasReady()) return [];
    const rd: Ready = this.node.ready();
    if (rd.snapshot) {
      this.storage.applySnapshot(rd.snapshot);
      this.restoredFrom = rd.snapshot.metadata.index;
      this.applied.length = 0;
      this.state = JSON.parse(text(rd.snapshot.data) || '[]') as string[];
      this.appliedIndex = rd.snapshot.metadata.index;
    }
    if (rd.hardState) this.storage.setHardState(rd.hardState);
    this.storage.append(rd.entries);
    for (const e of rd.committedEntries) {
      this.applied.push(e);
      this.appliedIndex = e.index;
      if (e.type === EntryType.ConfChange) {
        const cs = this.node.applyConfChange(decodeConfChange(e.data));
        // Like etcd's server, keep the snapshot a leader would send current with membership.
        this.storage.createSnapshot(e.index, cs, this.snapshotData());
      } else if (e.data.length > 0) {
        this.state.push(text(e.data));
      }
    }
    for (const rs of rd.readStates) this.readStates.push({ index: rs.index, context: text(rs.context) });
    this.node.advance(rd);
    return rd.messages;
  }

  appliedData(): string[] {
    return this.state;
  }

  snapshotData(): Uint8Array {
    return bytes(JSON.stringify(this.state));
  }

  /** Snapshots the state machine at the applied index and drops the log before it. */
  compact(): void {
    const cs = this.node.status().confState;
    this.storage.createSnapshot(this.appliedIndex, cs, this.snapshotData());
    this.storage.compact(this.appliedIndex);
  }
}

export class Network {
  readonly nodes = new Map<NodeId, TestNode>();
  queue: Message[] = [];
  /** Pairs "from-to" whose messages are dropped. */
  private readonly cut = new Set<string>();
  private readonly ignored = new Set<MessageTypeValue>();
  /** term -> leader id seen, for election safety. */
  private readonly leaders = new Map<bigint, NodeId>();
  /** commitTerms[i-1]: term of the first leader seen with commit ≥ i. */
  private readonly commitTerms: bigint[] = [];
  trace = false;

  constructor(
    ids: NodeId[],
    private readonly options: NodeOptions = {},
    seed = 1,
  ) {
    const random = seededRandom(seed);
    for (const id of ids) {
      const storage = new MemoryStorage();
      RawNode.bootstrap(storage, ids);
      this.add(id, storage, Math.floor(random() * 2 ** 31));
    }
  }

  add(id: NodeId, storage: MemoryStorage, seed: number, applied = 0n): TestNode {
    const o = this.options;
    const config: RaftConfig = {
      id,
      electionTicks: o.electionTicks ?? 10,
      heartbeatTicks: 1,
      storage,
      applied,
      random: seededRandom(seed),
      preVote: o.preVote ?? false,
      checkQuorum: o.checkQuorum ?? false,
      maxInflightMessages: o.maxInflightMessages ?? 256,
      maxEntriesBytesPerMessage: o.maxEntriesBytesPerMessage ?? 1024 * 1024,
    };
    const node = new TestNode(id, storage, config);
    this.nodes.set(id, node);
    return node;
  }

  /** Crash and restart: unpersisted state is lost; the node reloads from its storage. */
  restart(id: NodeId, seed: number): TestNode {
    const old = this.get(id);
    const snap = old.storage.snapshot();
    const node = this.add(id, old.storage, seed, snap.metadata.index);
    node.state = JSON.parse(text(snap.data) || '[]') as string[];
    node.appliedIndex = snap.metadata.index;
    node.restoredFrom = old.restoredFrom;
    node.applied.push(...old.applied.filter((e) => e.index <= snap.metadata.index));
    return node;
  }

  get(id: NodeId): TestNode {
    const n = this.nodes.get(id);
    assert.ok(n, `no node ${id}`);
    return n;
  }

  isolate(id: NodeId): void {
    for (const other of this.nodes.keys()) {
      if (other === id) continue;
      this.cut.add(`${id}-${other}`);
      this.cut.add(`${other}-${id}`);
    }
  }

  partition(...groups: NodeId[][]): void {
    for (const a of groups) for (const b of groups) {
      if (a === b) continue;
      for (const x of a) for (const y of b) this.cut.add(`${x}-${y}`);
    }
  }

  cutLink(from: NodeId, to: NodeId): void {
    this.cut.add(`${from}-${to}`);
  }

  ignore(type: MessageTypeValue): void {
    this.ignored.add(type);
  }

  heal(): void {
    this.cut.clear();
    this.ignored.clear();
  }

  /** Collects ready output from every node into the queue. */
  collect(): void {
    for (const n of this.nodes.values()) {
      for (const m of n.handleReady()) {
        if (this.cut.has(`${m.from}-${m.to}`) || this.ignored.has(m.type) || !this.nodes.has(m.to)) {
          this.drop(m);
          continue;
        }
        this.queue.push(m);
      }
    }
    this.checkSafety();
  }

  /** Delivers messages and processes readies until quiet (bounded); returns what was delivered, in order. */
  stabilize(maxRounds = 1000): Message[] {
    const delivered: Message[] = [];
    for (let round = 0; round < maxRounds; round++) {
      this.collect();
      if (this.queue.length === 0) return delivered;
      const batch = this.queue;
      this.queue = [];
      for (const m of batch) {
        delivered.push(m);
        this.deliver(m);
      }
    }
    throw new Error('network did not stabilize');
  }

  /** A message lost in transit; like a real transport, a lost snapshot is reported. */
  drop(m: Message): void {
    if (m.type === MessageType.Snap) this.nodes.get(m.from)?.node.reportSnapshot(m.to, false);
  }

  deliver(m: Message): void {
    if (this.trace) console.log(`${m.from}->${m.to} ${messageTypeName(m.type)} t${m.term} i${m.index} lt${m.logTerm} c${m.commit} n${m.entries.length}${m.reject ? ' REJECT h' + m.rejectHint : ''}`);
    const n = this.nodes.get(m.to);
    if (n) n.node.step(m);
    if (m.type === MessageType.Snap) this.nodes.get(m.from)?.node.reportSnapshot(m.to, n !== undefined);
  }

  tick(id: NodeId, times = 1): void {
    for (let i = 0; i < times; i++) this.get(id).node.tick();
  }

  tickAll(times = 1): void {
    for (let i = 0; i < times; i++) {
      for (const n of this.nodes.values()) n.node.tick();
      this.stabilize();
    }
  }

  /** Ticks everyone until a leader exists (bounded); returns it. */
  electLeader(maxTicks = 200): NodeId {
    for (let i = 0; i < maxTicks; i++) {
      const lead = this.leader();
      if (lead !== undefined) return lead;
      this.tickAll();
    }
    throw new Error('no leader elected');
  }

  campaign(id: NodeId): void {
    this.get(id).node.campaign();
    this.stabilize();
  }

  /** The unique node in state leader with the highest term, if any. */
  leader(): NodeId | undefined {
    let best: { id: NodeId; term: bigint } | undefined;
    for (const n of this.nodes.values()) {
      const s = n.node.status();
      if (s.state === 'leader' && (!best || s.term > best.term)) best = { id: n.id, term: s.term };
    }
    return best?.id;
  }

  propose(id: NodeId, data: string): void {
    this.get(id).node.propose(bytes(data));
    this.stabilize();
  }

  checkSafety(): void {
    // Election safety: at most one leader per term, ever.
    for (const n of this.nodes.values()) {
      const s = n.node.status();
      if (s.state !== 'leader') continue;
      const seen = this.leaders.get(s.term);
      assert.ok(seen === undefined || seen === n.id, `two leaders in term ${s.term}: ${seen} and ${n.id}`);
      this.leaders.set(s.term, n.id);
    }
    // State machine safety: applied sequences are prefixes of the longest one (by index and term).
    const logs = [...this.nodes.values()].filter((n) => n.restoredFrom === undefined).map((n) => n.applied);
    const longest = logs.reduce((a, b) => (b.length > a.length ? b : a), [] as Entry[]);
    for (const log of logs) {
      for (let k = 0; k < log.length; k++) {
        assert.equal(log[k].index, longest[k].index, 'applied index mismatch');
        assert.equal(log[k].term, longest[k].term, `applied term mismatch at index ${log[k].index}`);
      }
    }
    // Leader completeness: an entry committed by the leader of term T is in the log of
    // every leader of a later term.
    for (const n of this.nodes.values()) {
      const st = n.node.status();
      if (st.state !== 'leader') continue;
      for (let i = this.commitTerms.length + 1; BigInt(i) <= st.commit; i++) this.commitTerms.push(st.term);
      const first = n.storage.firstIndex();
      for (const e of longest) {
        const committedInTerm = this.commitTerms[Number(e.index) - 1];
        if (e.index < first || committedInTerm === undefined || st.term <= committedInTerm) continue;
        assert.ok(e.index <= n.storage.lastIndex() && n.storage.term(e.index) === e.term, `leader ${n.id} (term ${st.term}) lacks committed entry ${e.index}`);
      }
    }
  }
}
