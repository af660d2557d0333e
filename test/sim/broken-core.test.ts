/**
 * The simulator's checks must catch a broken core: flip one Raft rule at runtime and expect
 * a safety violation within a bounded number of seeds, then restore the rule and expect the
 * same seed to pass.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { MessageType, NONE, type Message } from '../../src/consensus';
import * as election from '../../src/consensus/election';
import { RaftLog } from '../../src/consensus/log';
import { KvStateMachine } from './kv-state-machine';
import type { Raft } from '../../src/consensus/raft';
import { runSimulation, SimulationFailure } from './simulation';

const SAFETY = new Set(['election safety', 'log matching', 'leader completeness', 'state machine safety', 'committed entry changed', 'linearizable read']);
const MAX_SEEDS = 400;

/** Runs seeds until one fails; returns the failure (or undefined). */
function firstFailure(): SimulationFailure | undefined {
  for (let seed = 1; seed <= MAX_SEEDS; seed++) {
    try {
      runSimulation({ seed });
    } catch (err) {
      if (err instanceof SimulationFailure) return err;
      throw err;
    }
  }
  return undefined;
}

/** Replaces a RaftLog method for the duration of `body`. */
function withPatchedRaftLog<K extends 'isUpToDate' | 'maybeCommit'>(name: K, replacement: RaftLog[K], body: () => void): void {
  const original = RaftLog.prototype[name];
  RaftLog.prototype[name] = replacement;
  try {
    body();
  } finally {
    RaftLog.prototype[name] = original;
  }
}

type VoteHandler = (r: Raft, m: Message) => void;

/**
 * Replaces election.handleVoteRequest (raft.ts calls it through the module's exports object,
 * so the CommonJS export can be swapped) for the duration of `body`.
 */
function withPatchedVoteHandler(wrap: (original: VoteHandler) => VoteHandler, body: () => void): void {
  const exports = election as unknown as { handleVoteRequest: VoteHandler };
  const original = exports.handleVoteRequest;
  exports.handleVoteRequest = wrap(original);
  try {
    body();
  } finally {
    exports.handleVoteRequest = original;
  }
}

describe('the simulator catches a deliberately broken core', () => {
  test('voters that ignore whether the candidate’s log is up to date (§5.4.1) lose committed entries', (t) => {
    let failure: SimulationFailure | undefined;
    withPatchedRaftLog('isUpToDate', () => true, () => {
      failure = firstFailure();
    });
    assert.ok(failure, `no violation within ${MAX_SEEDS} seeds`);
    t.diagnostic(`seed ${failure.seed}: ${failure.cause.message}`);
    assert.ok(SAFETY.has(failure.invariant), `expected a safety violation, got ${failure.invariant}: ${failure.cause.message}`);
    // With the rule restored, the same seed is fine: the violation came from the flip.
    const result = runSimulation({ seed: failure.seed });
    assert.equal(result.seed, failure.seed);
  });

  test('voters that forget their vote and vote twice in one term elect two leaders', (t) => {
    let failure: SimulationFailure | undefined;
    const forgetVote = (original: VoteHandler): VoteHandler => (r, m) => {
      if (m.type === MessageType.Vote) {
        r.vote = NONE;
        r.lead = NONE;
      }
      original(r, m);
    };
    withPatchedVoteHandler(forgetVote, () => {
      failure = firstFailure();
    });
    assert.ok(failure, `no violation within ${MAX_SEEDS} seeds`);
    t.diagnostic(`seed ${failure.seed}: ${failure.cause.message}`);
    assert.equal(failure.invariant, 'election safety', failure.cause.message);
    assert.equal(runSimulation({ seed: failure.seed }).seed, failure.seed);
  });

  test('a member that re-applies replayed entries (ignoring its consistent index) diverges', (t) => {
    const original = KvStateMachine.prototype.apply;
    KvStateMachine.prototype.apply = function (this: KvStateMachine, entry) {
      if (entry.index <= this.appliedIndex) this.appliedIndex = entry.index - 1n; // forget the skip rule
      return original.call(this, entry);
    };
    let failure: SimulationFailure | undefined;
    try {
      failure = firstFailure();
    } finally {
      KvStateMachine.prototype.apply = original;
    }
    assert.ok(failure, `no violation within ${MAX_SEEDS} seeds`);
    t.diagnostic(`seed ${failure.seed}: ${failure.cause.message}`);
    assert.equal(failure.invariant, 'state machine safety', failure.cause.message);
    assert.equal(runSimulation({ seed: failure.seed }).seed, failure.seed);
  });
});
