/**
 * The deterministic simulator: a cluster of SimNodes (the real Raft core and the member's
 * loop) under a seeded scheduler that, step by step, ticks nodes, delivers, drops,
 * duplicates and reorders messages, completes fsyncs, proposes writes, requests ReadIndex
 * reads, crashes and restarts nodes (losing unsynced writes), partitions the network
 * (symmetric or one-way) and heals it, transfers leadership and changes membership (add a
 * learner, promote it, remove a voter). Invariants are checked after every step; at the end
 * the network heals, everyone restarts, and the cluster must converge and commit a write.
 * The same seed always produces the same run.
 */
import {
  ConfChangeType,
  MessageType,
  messageTypeName,
  ProposalDroppedError,
  type Message,
  type NodeId,
} from '../../src/consensus';
import { InvariantViolation, Invariants } from './invariants';
import { encodeCommand, type KvStateMachine } from './kv-state-machine';
import { Network, type InFlight } from './network';
import { Rng } from './rng';
import { SimNode, type NodeObserver, type SimNodeOptions } from './sim-node';

export interface SimOptions {
  seed: number;
  /** 3 or 5 voters to start with; by default chosen by the seed's parity. */
  clusterSize?: number;
  /** Chaos steps before the quiet period (default DEFAULT_STEPS). */
  steps?: number;
}

export interface SimResult {
  seed: number;
  clusterSize: number;
  steps: number;
  /** Highest term reached. */
  maxTerm: bigint;
  /** Highest commit index reached. */
  maxCommit: bigint;
  crashes: number;
  membershipChanges: number;
  /** Hash of every step taken: equal for two runs of one seed (determinism). */
  traceDigest: number;
}

export class SimulationFailure extends Error {
  constructor(
    readonly seed: number,
    readonly clusterSize: number,
    /** The invariant violated, or 'exception' for an unexpected error. */
    readonly invariant: string,
    override readonly cause: Error,
    readonly trace: readonly string[],
  ) {
    super(`seed ${seed} (${clusterSize} nodes): ${cause.message}\nlast steps:\n  ${trace.join('\n  ')}`);
    this.name = 'SimulationFailure';
  }
}

const TRACE_LENGTH = 40;
export const DEFAULT_STEPS = 800;
const MAX_EXTRA_NODES = 3;
const QUIET_ROUNDS = 600;
const KEYS = ['a', 'b', 'c', 'd', 'e'];

export const defaultClusterSize = (seed: number): number => (seed % 2 === 0 ? 3 : 5);

export class Simulation {
  readonly rng: Rng;
  readonly clusterSize: number;
  readonly nodes = new Map<NodeId, SimNode>();
  readonly network = new Network();
  readonly invariants = new Invariants();
  private readonly nodeOptions: SimNodeOptions;
  private readonly trace: string[] = [];
  private readonly removedIds = new Set<NodeId>();
  private stepNo = 0;
  private nextId: NodeId;
  private proposals = 0;
  private reads = 0;
  private crashes = 0;
  private membershipChanges = 0;
  private maxTerm = 0n;
  private traceDigest = 0x811c9dc5;

  constructor(readonly options: SimOptions) {
    this.rng = new Rng(options.seed);
    this.clusterSize = options.clusterSize ?? defaultClusterSize(options.seed);
    const r = this.rng;
    this.nodeOptions = {
      electionTicks: r.pick([5, 10]),
      preVoteAndCheckQuorum: r.chance(0.75),
      maxInflightMessages: r.pick([2, 4, 256]),
      maxEntriesBytesPerMessage: r.pick([64, 1024 * 1024]),
      snapshotCount: r.pick([3, 8, 20, 10_000]),
      catchupEntries: r.pick([0, 2, 5]),
    };
    const ids = Array.from({ length: this.clusterSize }, (_, i) => BigInt(i + 1));
    this.nextId = BigInt(ids.length + 1);
    for (const id of ids) {
      const node = this.newNode(id);
      node.bootstrapDisk(ids);
      node.start(this.rng);
    }
  }

  private newNode(id: NodeId): SimNode {
    const inv = this.invariants;
    const observer: NodeObserver = {
      onAppend: (n, e) => inv.onAppend(n, e),
      onApply: (n, e, sm) => inv.onApply(n, e, sm),
      onStateMachineLoaded: (n, sm) => inv.onStateMachineLoaded(n, sm),
      onReadState: (n, rs) => inv.onReadState(n, rs),
      onConfChangeApplied: (_n, type, target) => {
        if (type === ConfChangeType.RemoveNode) this.removedIds.add(target);
      },
    };
    const node = new SimNode(id, this.nodeOptions, observer);
    this.nodes.set(id, node);
    return node;
  }

  /** Runs the chaos steps and the quiet period; throws SimulationFailure on any violation. */
  run(): SimResult {
    const steps = this.options.steps ?? DEFAULT_STEPS;
    try {
      this.processReadies();
      this.check();
      for (let i = 0; i < steps; i++) {
        this.stepNo++;
        this.chaosStep();
        this.processReadies();
        this.check();
      }
      this.quietPeriod();
    } catch (err) {
      const cause = err instanceof Error ? err : new Error(String(err));
      const invariant = err instanceof InvariantViolation ? err.invariant : 'exception';
      this.log(`nodes: ${this.describeNodes()}; in flight: ${this.network.queue.length}; cuts: ${this.network.describeCuts() || 'none'}`);
      throw new SimulationFailure(this.options.seed, this.clusterSize, invariant, cause, this.trace);
    }
    return {
      seed: this.options.seed,
      clusterSize: this.clusterSize,
      steps,
      maxTerm: this.maxTerm,
      maxCommit: this.invariants.maxCommit,
      crashes: this.crashes,
      membershipChanges: this.membershipChanges,
      traceDigest: this.traceDigest,
    };
  }

  private describeNodes(): string {
    return [...this.nodes.values()]
      .map((n) => {
        if (n.removed) return `${n.id}:removed`;
        if (!n.up) return `${n.id}:down`;
        const r = n.core();
        return `${n.id}:${r.state}/t${r.term}/last${r.raftLog.lastIndex()}/c${r.raftLog.committed}/sm${n.sm.appliedIndex}`;
      })
      .join(' ');
  }

  private log(what: string): void {
    const line = `#${this.stepNo} ${what}`;
    this.traceDigest = fnv1a(this.traceDigest, line);
    this.trace.push(line);
    if (this.trace.length > TRACE_LENGTH) this.trace.shift();
  }

  private check(): void {
    for (const id of this.removedIds) {
      const n = this.nodes.get(id);
      if (n && !n.removed) {
        n.remove();
        this.log(`node ${id} removed from the cluster: stopped`);
      }
    }
    this.invariants.afterStep(this.nodes.values());
    for (const n of this.nodes.values()) if (n.up && n.core().term > this.maxTerm) this.maxTerm = n.core().term;
  }

  private upNodes(): SimNode[] {
    return [...this.nodes.values()].filter((n) => n.up);
  }

  private chaosStep(): void {
    const r = this.rng.next();
    const up = this.upNodes();
    if (r < 0.3) this.deliverSome();
    else if (r < 0.32) this.dropOne();
    else if (r < 0.335) this.duplicateOne();
    else if (r < 0.45) this.tick(up.length > 0 ? [this.rng.pick(up)] : []);
    else if (r < 0.56) this.tick(up);
    else if (r < 0.71) this.syncOne();
    else if (r < 0.83) this.propose(up);
    else if (r < 0.85) this.readIndex(up);
    else if (r < 0.87) this.flush(up);
    else if (r < 0.8775) this.crash(up);
    else if (r < 0.91) this.restart();
    else if (r < 0.92) this.partition();
    else if (r < 0.94) this.heal();
    else if (r < 0.95) this.transferLeader(up);
    else if (r < 0.965) this.changeMembership(up);
    else this.deliverSome();
  }

  // ---- network ---------------------------------------------------------------------

  /** Delivers a few messages (most messages arrive within a tick; some much later). */
  private deliverSome(): void {
    const count = 1 + this.rng.int(6);
    for (let i = 0; i < count; i++) {
      const f = this.network.take(this.rng);
      if (!f) return;
      this.deliver(f, 'deliver');
      this.processReadies();
    }
  }

  private dropOne(): void {
    const f = this.network.take(this.rng);
    if (!f) return;
    this.log(`drop ${describe(f.message)}`);
    this.lost(f);
  }

  private duplicateOne(): void {
    const f = this.network.duplicate(this.rng);
    if (f) this.deliver(f, 'duplicate');
  }

  private deliver(f: InFlight, how: string): void {
    const m = f.message;
    const to = this.nodes.get(m.to);
    const from = this.nodes.get(m.from);
    if (!to || !to.up || this.network.isCut(m.from, m.to) || from?.removed) {
      this.log(`${how} ${describe(m)}: lost (${!to || !to.up ? 'receiver down' : from?.removed ? 'sender removed' : 'link cut'})`);
      this.lost(f);
      return;
    }
    this.log(`${how} ${describe(m)}`);
    to.raw.step(m);
    if (m.type === MessageType.Snap) this.reportToSender(f, (n) => n.raw.reportSnapshot(m.to, true));
  }

  /** A message that never arrives: a lost snapshot is reported, like a real transport does. */
  private lost(f: InFlight): void {
    const m = f.message;
    if (m.type === MessageType.Snap) this.reportToSender(f, (n) => n.raw.reportSnapshot(m.to, false));
    else if (this.rng.chance(0.3)) this.reportToSender(f, (n) => n.raw.reportUnreachable(m.to));
  }

  private reportToSender(f: InFlight, report: (n: SimNode) => void): void {
    const sender = this.nodes.get(f.message.from);
    if (sender && sender.up && sender.incarnation === f.senderIncarnation) report(sender);
  }

  private send(node: SimNode, messages: readonly Message[]): void {
    for (const m of messages) {
      for (const overflow of this.network.send(m, node.incarnation)) this.lost(overflow);
    }
  }

  private memberIds(): NodeId[] {
    return [...this.nodes.values()].filter((n) => !n.removed).map((n) => n.id);
  }

  private partition(): void {
    if (!this.rng.chance(0.3)) this.network.heal();
    const ids = this.memberIds();
    const kind = this.rng.int(3);
    if (kind === 0) {
      const shuffled = this.rng.shuffled(ids);
      const cut = 1 + this.rng.int(Math.max(1, Math.floor(ids.length / 2)));
      this.network.partition([shuffled.slice(0, cut), shuffled.slice(cut)]);
    } else if (kind === 1) {
      // One-way: a node can hear but not speak (or speak but not hear).
      const x = this.rng.pick(ids);
      const outgoing = this.rng.chance(0.5);
      for (const y of ids) if (y !== x) (outgoing ? this.network.cut(x, y) : this.network.cut(y, x));
    } else {
      const x = this.rng.pick(ids);
      const y = this.rng.pick(ids.filter((i) => i !== x));
      this.network.cut(x, y);
    }
    this.log(`partition: ${this.network.describeCuts()}`);
  }

  private heal(): void {
    if (!this.network.hasCuts()) return;
    this.network.heal();
    this.log('heal');
  }

  // ---- nodes -----------------------------------------------------------------------

  /** Runs every node's Ready loop until it waits for an fsync or has nothing to do. */
  private processReadies(): void {
    for (let round = 0; round < 50; round++) {
      let progressed = false;
      for (const n of this.nodes.values()) {
        if (!n.up || n.pending || !n.raw.hasReady()) continue;
        progressed = true;
        const messages = n.startReady();
        if (messages) this.send(n, messages);
      }
      if (!progressed) return;
    }
    throw new Error('ready loops did not settle in 50 rounds');
  }

  private tick(nodes: readonly SimNode[]): void {
    for (const n of nodes) n.raw.tick();
    if (nodes.length === 1) this.log(`tick ${nodes[0]!.id}`);
    else if (nodes.length > 1) this.log('tick all');
  }

  private syncOne(): void {
    const pending = this.upNodes().filter((n) => n.pending);
    if (pending.length === 0) return this.deliverSome();
    const n = this.rng.pick(pending);
    this.log(`fsync ${n.id}`);
    this.send(n, n.sync());
  }

  private propose(up: readonly SimNode[]): void {
    if (up.length === 0) return;
    const n = this.rng.pick(up);
    const key = this.rng.pick(KEYS);
    const value = `v${++this.proposals}`;
    const data = this.rng.chance(0.85) ? encodeCommand({ op: 'put', key, value }) : encodeCommand({ op: 'del', key });
    this.log(`propose on ${n.id}: ${key}`);
    tryPropose(() => n.raw.propose(data));
  }

  private readIndex(up: readonly SimNode[]): void {
    if (up.length === 0) return;
    const n = this.rng.pick(up);
    const context = new TextEncoder().encode(`read-${++this.reads}`);
    this.invariants.readRequested(context);
    this.log(`read index on ${n.id}`);
    n.raw.readIndex(context);
  }

  private flush(up: readonly SimNode[]): void {
    if (up.length === 0) return;
    const n = this.rng.pick(up);
    n.flushStateMachine();
    this.log(`flush state machine of ${n.id} at ${n.sm.appliedIndex}`);
  }

  /** Crashes a node; leaders half the time, since their crashes make the hard cases. */
  private crash(up: readonly SimNode[]): void {
    if (up.length === 0) return;
    const leaders = this.leaders();
    const n = leaders.length > 0 && this.rng.chance(0.5) ? this.rng.pick(leaders) : this.rng.pick(up);
    const lost = n.crash(this.rng);
    this.crashes++;
    this.log(`crash ${n.id} (${lost} unsynced WAL records lost)`);
  }

  private restart(): void {
    const down = [...this.nodes.values()].filter((n) => !n.up && !n.removed);
    if (down.length === 0) return;
    const n = this.rng.pick(down);
    this.startNode(n);
  }

  private startNode(n: SimNode): void {
    this.invariants.nodeRestarted(n);
    n.start(this.rng);
    this.log(`restart ${n.id}: commit ${n.core().raftLog.committed}, last ${n.core().raftLog.lastIndex()}, sm ${n.sm.appliedIndex}`);
  }

  private leaders(): SimNode[] {
    return this.upNodes().filter((n) => n.core().state === 'leader');
  }

  private transferLeader(up: readonly SimNode[]): void {
    if (up.length === 0) return;
    const n = this.rng.pick(up);
    const voters = n.members().voters.filter((v) => v !== n.id);
    if (voters.length === 0) return;
    const to = this.rng.pick(voters);
    this.log(`transfer leadership to ${to} via ${n.id}`);
    n.raw.transferLeader(to);
  }

  /** Membership changes go through a leader, whose view of the configuration is current. */
  private changeMembership(up: readonly SimNode[]): void {
    const leaders = this.leaders();
    if (leaders.length === 0 || up.length === 0) return;
    const lead = this.rng.pick(leaders);
    const cs = lead.members();
    const learner = cs.learners.find((l) => this.nodes.get(l)?.removed === false);
    const extra = this.nodes.size - this.clusterSize;
    let type: (typeof ConfChangeType)[keyof typeof ConfChangeType];
    let target: NodeId;
    if (learner !== undefined && this.rng.chance(0.7)) {
      type = ConfChangeType.AddNode;
      target = learner;
    } else if (extra < MAX_EXTRA_NODES && this.rng.chance(0.5)) {
      type = ConfChangeType.AddLearnerNode;
      target = this.nextId++;
      // Like `member add` then starting the new member with empty storage.
      this.newNode(target).start(this.rng);
    } else if (cs.voters.length >= 4) {
      type = ConfChangeType.RemoveNode;
      target = this.rng.pick(cs.voters);
    } else {
      return;
    }
    this.membershipChanges++;
    this.log(`conf change via ${lead.id}: ${['add', 'remove', 'update', 'add learner'][type]} ${target}`);
    tryPropose(() => lead.raw.proposeConfChange({ type, nodeId: target, context: new Uint8Array(0) }));
  }

  // ---- the quiet period: liveness ---------------------------------------------------

  /**
   * Heal, restart everyone, deliver everything promptly: a leader must emerge, commit a
   * final write, and every member must converge on the same state machine.
   */
  private quietPeriod(): void {
    this.stepNo++;
    this.network.heal();
    this.log('quiet period: heal, restart all');
    for (const n of this.nodes.values()) if (!n.up && !n.removed) this.startNode(n);
    let proposedAt = -1;
    for (let round = 0; round < QUIET_ROUNDS; round++) {
      this.stepNo++;
      this.settle();
      const lead = this.leaders().sort((a, b) => (a.core().term < b.core().term ? 1 : -1))[0];
      if (lead && this.converged(lead)) return;
      if (lead && (proposedAt < 0 || round - proposedAt > 50)) {
        proposedAt = round;
        this.log(`final proposal via ${lead.id}`);
        tryPropose(() => lead.raw.propose(encodeCommand({ op: 'put', key: 'final', value: String(this.options.seed) })));
        this.settle();
      }
      this.tick(this.upNodes());
      this.processReadies();
      this.check();
    }
    throw new InvariantViolation('liveness', `no convergence after ${QUIET_ROUNDS} quiet rounds: ${this.describeNodes()}`);
  }

  /** Delivers every queued message and completes every fsync, until nothing is left. */
  private settle(): void {
    for (let i = 0; i < 10_000; i++) {
      this.processReadies();
      this.check();
      const f = this.network.queue.shift();
      if (f) {
        this.deliver(f, 'deliver');
        continue;
      }
      const pending = this.upNodes().find((n) => n.pending);
      if (!pending) return;
      this.send(pending, pending.sync());
    }
    throw new Error('network did not settle');
  }

  private converged(lead: SimNode): boolean {
    const cs = lead.members();
    const members = [...cs.voters, ...cs.learners].map((id) => this.nodes.get(id));
    const machines: KvStateMachine[] = [];
    for (const n of members) {
      if (!n || !n.up) return false;
      machines.push(n.sm);
    }
    const first = machines[0];
    if (!first || first.kv.get('final') !== String(this.options.seed)) return false;
    return machines.every((sm) => sm.appliedIndex === first.appliedIndex && sm.digest === first.digest);
  }
}

function fnv1a(seed: number, text: string): number {
  let h = seed >>> 0;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

function tryPropose(propose: () => void): void {
  try {
    propose();
  } catch (err) {
    if (!(err instanceof ProposalDroppedError)) throw err;
  }
}

function describe(m: Message): string {
  const parts = [`${m.from}->${m.to} ${messageTypeName(m.type)} t${m.term}`];
  if (m.type === MessageType.App || m.type === MessageType.AppResp) parts.push(`i${m.index} lt${m.logTerm} n${m.entries.length} c${m.commit}`);
  if (m.reject) parts.push(`reject hint ${m.rejectHint}`);
  if (m.type === MessageType.Snap && m.snapshot) parts.push(`snap ${m.snapshot.metadata.index}`);
  return parts.join(' ');
}

/** Runs one seed; throws SimulationFailure if any invariant breaks. */
export function runSimulation(options: SimOptions): SimResult {
  return new Simulation(options).run();
}
