/**
 * Raft's safety properties, checked as the simulation runs (Raft paper, Figure 3):
 *  - election safety: at most one leader per term, over the whole history;
 *  - log matching: an (index, term) pair names one entry, with one predecessor term, in
 *    every log that ever held it (so equal (index, term) implies equal prefixes);
 *  - leader completeness: an entry known committed while the cluster was at term t is in the
 *    log of every leader of a later term;
 *  - state machine safety: no two members apply different entries at one index, and their
 *    state machines (digests over everything applied) agree at every index;
 *  - committed entries never change, and a ReadIndex answer covers every entry committed
 *    before the read was requested (linearizable reads).
 * A failure throws InvariantViolation naming the property.
 */
import type { Entry, NodeId, ReadState } from '../../src/consensus';
import { entryKey, type KvStateMachine } from './kv-state-machine';
import type { NodeObserver, SimNode } from './sim-node';

export type InvariantName =
  | 'election safety'
  | 'log matching'
  | 'leader completeness'
  | 'state machine safety'
  | 'committed entry changed'
  | 'linearizable read'
  | 'liveness';

export class InvariantViolation extends Error {
  constructor(
    readonly invariant: InvariantName,
    detail: string,
  ) {
    super(`${invariant} violated: ${detail}`);
    this.name = 'InvariantViolation';
  }
}

interface LoggedEntry {
  key: string;
  /** Term of the entry before it in the log that holds it (undefined when compacted away). */
  prevTerm: bigint | undefined;
}

interface CommittedEntry {
  key: string;
  term: bigint;
  /** Lowest term any member was at when it saw this entry committed. */
  observedTerm: bigint;
}

export class Invariants implements NodeObserver {
  private readonly leaderOfTerm = new Map<bigint, NodeId>();
  private readonly logged = new Map<string, LoggedEntry>();
  private readonly committed = new Map<bigint, CommittedEntry>();
  private readonly appliedAt = new Map<bigint, { key: string; digest: number }>();
  /** Per node: commit index up to which its log was checked against `committed`. */
  private readonly commitChecked = new Map<NodeId, bigint>();
  /** Per node: the term in which it was last checked as leader. */
  private readonly leaderChecked = new Map<NodeId, bigint>();
  private readonly readRequests = new Map<string, bigint>();
  /** Highest commit index any member has reached. */
  maxCommit = 0n;

  // ---- observer hooks (called by SimNode) -------------------------------------------

  onAppend(node: SimNode, entries: readonly Entry[]): void {
    const storage = node.storage;
    const first = storage.firstIndex();
    for (const e of entries) {
      if (e.index < first) continue; // skipped by the storage (already compacted)
      const prevTerm = e.index - 1n >= first - 1n ? storage.term(e.index - 1n) : undefined;
      const id = `${e.index}@${e.term}`;
      const key = entryKey(e);
      const seen = this.logged.get(id);
      if (!seen) {
        this.logged.set(id, { key, prevTerm });
        continue;
      }
      if (seen.key !== key) throw new InvariantViolation('log matching', `node ${node.id} holds a different entry at index ${e.index} term ${e.term}`);
      if (seen.prevTerm !== undefined && prevTerm !== undefined && seen.prevTerm !== prevTerm) {
        throw new InvariantViolation(
          'log matching',
          `node ${node.id}: entry ${e.index}@${e.term} follows term ${prevTerm}, elsewhere term ${seen.prevTerm}`,
        );
      }
      if (seen.prevTerm === undefined) seen.prevTerm = prevTerm;
    }
  }

  onApply(node: SimNode, entry: Entry, sm: KvStateMachine): void {
    this.checkApplied(node, entry.index, entryKey(entry), sm.digest);
  }

  onStateMachineLoaded(node: SimNode, sm: KvStateMachine): void {
    if (sm.appliedIndex === 0n) return;
    const seen = this.appliedAt.get(sm.appliedIndex);
    if (seen && seen.digest !== sm.digest) {
      throw new InvariantViolation('state machine safety', `node ${node.id} loaded a state machine at ${sm.appliedIndex} that differs from what others applied`);
    }
  }

  onReadState(node: SimNode, rs: ReadState): void {
    const required = this.readRequests.get(Buffer.from(rs.context).toString('hex'));
    if (required === undefined) throw new Error(`node ${node.id}: read state for an unknown request`);
    if (rs.index < required) {
      throw new InvariantViolation('linearizable read', `node ${node.id} got read index ${rs.index}, but ${required} was committed before the read`);
    }
  }

  onConfChangeApplied(): void {}

  /** Records a ReadIndex request: its answer must cover everything committed by now. */
  readRequested(context: Uint8Array): void {
    this.readRequests.set(Buffer.from(context).toString('hex'), this.maxCommit);
  }

  private checkApplied(node: SimNode, index: bigint, key: string, digest: number): void {
    const seen = this.appliedAt.get(index);
    if (!seen) {
      this.appliedAt.set(index, { key, digest });
      return;
    }
    if (seen.key !== key) throw new InvariantViolation('state machine safety', `node ${node.id} applied a different entry at index ${index}`);
    if (seen.digest !== digest) {
      throw new InvariantViolation('state machine safety', `node ${node.id}'s state machine at index ${index} differs (entry applied twice or skipped)`);
    }
  }

  /** A node restarted: its log is re-checked against what is known committed. */
  nodeRestarted(node: SimNode): void {
    this.commitChecked.delete(node.id);
    this.leaderChecked.delete(node.id);
  }

  // ---- after every step ------------------------------------------------------------

  afterStep(nodes: Iterable<SimNode>): void {
    const live = [...nodes].filter((n) => n.up);
    for (const n of live) this.checkElectionSafety(n);
    for (const n of live) this.checkCommitted(n);
    for (const n of live) this.checkLeaderCompleteness(n);
  }

  private checkElectionSafety(n: SimNode): void {
    const r = n.core();
    if (r.state !== 'leader') return;
    const seen = this.leaderOfTerm.get(r.term);
    if (seen === undefined) this.leaderOfTerm.set(r.term, n.id);
    else if (seen !== n.id) throw new InvariantViolation('election safety', `nodes ${seen} and ${n.id} both led term ${r.term}`);
  }

  /** Entries a node considers committed must be the ones everybody else committed there. */
  private checkCommitted(n: SimNode): void {
    const r = n.core();
    const commit = r.raftLog.committed;
    const from = this.commitChecked.get(n.id) ?? 0n;
    if (commit <= from) return;
    const first = r.raftLog.firstIndex();
    const lo = from + 1n > first ? from + 1n : first;
    if (lo <= commit) {
      const entries = r.raftLog.slice(lo, commit + 1n);
      for (const e of entries) this.recordCommitted(n, e, r.term);
    }
    this.commitChecked.set(n.id, commit);
    if (commit > this.maxCommit) this.maxCommit = commit;
  }

  private recordCommitted(n: SimNode, e: Entry, observedTerm: bigint): void {
    const key = entryKey(e);
    const known = this.committed.get(e.index);
    if (known) {
      if (known.key !== key) {
        throw new InvariantViolation('committed entry changed', `node ${n.id} has ${e.index}@${e.term} committed, but ${e.index}@${known.term} was committed before`);
      }
      if (observedTerm < known.observedTerm) known.observedTerm = observedTerm;
      return;
    }
    this.committed.set(e.index, { key, term: e.term, observedTerm });
    // Every leader of a later term must hold it.
    this.leaderChecked.clear();
  }

  private checkLeaderCompleteness(n: SimNode): void {
    const r = n.core();
    if (r.state !== 'leader') return;
    if (this.leaderChecked.get(n.id) === r.term) return;
    const log = r.raftLog;
    const first = log.firstIndex();
    const last = log.lastIndex();
    for (const [index, c] of this.committed) {
      if (c.observedTerm >= r.term || index < first) continue; // later commits / inside our snapshot
      const held = index <= last ? log.slice(index, index + 1n)[0] : undefined;
      if (!held || entryKey(held) !== c.key) {
        throw new InvariantViolation('leader completeness', `leader ${n.id} of term ${r.term} lacks entry ${index}@${c.term}, committed by term ${c.observedTerm}`);
      }
    }
    this.leaderChecked.set(n.id, r.term);
  }
}
