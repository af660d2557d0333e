import { LinearizedSet } from './linearized-set';
import { EntryList, entryOrder } from './entries';
import { Impossible, type LinearizableOperation, type Model } from './model';

export interface SearchBudget {
  /** Search steps (entries visited) allowed for this call. */
  maxSteps: number;
  /** Absolute performance.now() deadline. */
  deadlineMs: number;
}

export type SearchResult =
  | { outcome: 'valid'; steps: number }
  | { outcome: 'unknown'; steps: number }
  | {
      outcome: 'invalid';
      steps: number;
      /** The longest linearizable prefix found (operation ids, in linearization order; capped). */
      longestPrefix: number[];
      longestPrefixLength: number;
      /** The operation whose response came before it could be linearized after that prefix. */
      stuckOperation: number;
    };

const prefixReportedMax = 8;
const clockCheckEverySteps = 4096;
/** Cache entries kept before the oldest (lowest-`low`) buckets are dropped; memo only. */
const cacheEntriesMax = 2_000_000;

/**
 * Wing & Gong's linearizability search with Lowe's memoization, as Porcupine implements it:
 * depth-first over the entry list, linearizing a pending call whenever the model accepts
 * it, skipping (linearized set, state) pairs already explored, backtracking at the first
 * return entry that has not been linearized. Iterative, with an explicit stack.
 */
export function searchLinearization<S, I, O>(
  model: Model<S, I, O>,
  history: readonly LinearizableOperation<I, O>[],
  budget: SearchBudget,
): SearchResult {
  const n = history.length;
  if (n === 0) return { outcome: 'valid', steps: 0 };
  const ordered = numberForSearch(history);
  const operations = ordered.operations;
  const list = new EntryList(n, entryOrder(operations));
  const linearized = new LinearizedSet(ordered.knownCount, n - ordered.knownCount);
  const cache = new MemoCache();
  const stackCalls = new Int32Array(n);
  const stackStates: S[] = new Array<S>(n);
  let depth = 0;
  let state = model.init();
  let entry = list.first();
  let steps = 0;
  let best = { depth: -1, stuck: -1, prefix: [] as number[] };

  const seen = (stateKey: string): boolean => cache.testAndAdd(linearized.low, `${linearized.key()}#${stateKey}`);

  while (!list.isEmpty()) {
    steps++;
    if (steps > budget.maxSteps) return { outcome: 'unknown', steps };
    if (steps % clockCheckEverySteps === 0 && performance.now() > budget.deadlineMs) {
      return { outcome: 'unknown', steps };
    }
    if (list.isCall(entry)) {
      const operation = operations[entry]!;
      const after = model.step(state, operation.input, operation.output);
      if (after !== Impossible) {
        linearized.set(entry);
        if (!seen(model.stateKey(after))) {
          stackCalls[depth] = entry;
          stackStates[depth] = state;
          depth++;
          state = after;
          list.lift(entry);
          entry = list.first();
          continue;
        }
        linearized.clear(entry);
      }
      entry = list.next[entry]!;
      continue;
    }
    // A return entry whose call is not yet linearized: this branch is dead.
    if (depth > best.depth) {
      const prefix: number[] = [];
      for (let i = Math.max(0, depth - prefixReportedMax); i < depth; i++) prefix.push(operations[stackCalls[i]!]!.id);
      best = { depth, stuck: operations[entry - n]!.id, prefix };
    }
    if (depth === 0) {
      return {
        outcome: 'invalid',
        steps,
        longestPrefix: best.prefix,
        longestPrefixLength: best.depth,
        stuckOperation: best.stuck,
      };
    }
    depth--;
    const call = stackCalls[depth]!;
    state = stackStates[depth]!;
    linearized.clear(call);
    list.unlift(call);
    entry = list.next[call]!;
  }
  return { outcome: 'valid', steps };
}

/** Known-outcome operations first, in call order; then the unknown-outcome ones. */
function numberForSearch<I, O>(
  operations: readonly LinearizableOperation<I, O>[],
): { operations: LinearizableOperation<I, O>[]; knownCount: number } {
  const known = operations.filter((operation) => Number.isFinite(operation.endMs));
  const unknown = operations.filter((operation) => !Number.isFinite(operation.endMs));
  known.sort((a, b) => a.startMs - b.startMs);
  return { operations: [...known, ...unknown], knownCount: known.length };
}

/**
 * (linearized set, state) pairs already explored, bucketed by the set's `low` so that
 * when the cache grows too big the buckets furthest behind are dropped: forgetting an
 * entry only costs repeated work, never correctness.
 */
class MemoCache {
  private readonly buckets = new Map<number, Set<string>>();
  private entries = 0;

  testAndAdd(low: number, key: string): boolean {
    let bucket = this.buckets.get(low);
    if (bucket === undefined) this.buckets.set(low, (bucket = new Set()));
    if (bucket.has(key)) return true;
    bucket.add(key);
    this.entries++;
    if (this.entries > cacheEntriesMax) this.evictOldest();
    return false;
  }

  private evictOldest(): void {
    const lows = [...this.buckets.keys()].sort((a, b) => a - b);
    for (const low of lows) {
      if (this.entries <= cacheEntriesMax / 2) break;
      this.entries -= this.buckets.get(low)!.size;
      this.buckets.delete(low);
    }
  }
}
