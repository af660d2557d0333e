import type { CheckResult, ElectionHistory, LeaderObservation } from '../history';
import { checkResult, ViolationSink } from './result';

function leaderOf(observation: LeaderObservation): string {
  return `${JSON.stringify(observation.leaderKey)}=${JSON.stringify(observation.leaderValue)}`;
}

/**
 * At most one leader per term, a leader key never seen under two terms, and each
 * observer's sequence of leaders (in its time order) a subsequence of the global order by
 * term: an observer never sees the term go backwards.
 */
export function checkElection(history: ElectionHistory): CheckResult {
  const sink = new ViolationSink('election');
  const leaderOfTerm = new Map<bigint, LeaderObservation>();
  const termOfKey = new Map<string, bigint>();
  for (const observation of history.observations) {
    const first = leaderOfTerm.get(observation.term);
    if (first === undefined) leaderOfTerm.set(observation.term, observation);
    else if (leaderOf(first) !== leaderOf(observation)) {
      sink.add(
        `term ${observation.term} has two leaders: observer ${first.observer} saw ${leaderOf(first)}, ` +
          `observer ${observation.observer} saw ${leaderOf(observation)}`,
      );
    }
    const term = termOfKey.get(observation.leaderKey);
    if (term === undefined) termOfKey.set(observation.leaderKey, observation.term);
    else if (term !== observation.term) {
      sink.add(`leader key ${JSON.stringify(observation.leaderKey)} appears under terms ${term} and ${observation.term}`);
    }
  }
  const byObserver = new Map<number, LeaderObservation[]>();
  for (const observation of history.observations) {
    let list = byObserver.get(observation.observer);
    if (list === undefined) byObserver.set(observation.observer, (list = []));
    list.push(observation);
  }
  for (const [observer, observations] of byObserver) {
    // Stable sort: observations at the same instant keep their recorded order.
    const sequence = [...observations].sort((a, b) => a.atMs - b.atMs);
    for (let i = 1; i < sequence.length; i++) {
      const before = sequence[i - 1]!;
      const after = sequence[i]!;
      if (after.term < before.term) {
        sink.add(
          `observer ${observer} saw term ${after.term} (${leaderOf(after)}) at ${after.atMs} ms after term ${before.term} ` +
            `(${leaderOf(before)}) at ${before.atMs} ms: leaders out of order`,
        );
      }
    }
  }
  const stats = {
    observations: history.observations.length,
    observers: byObserver.size,
    terms: leaderOfTerm.size,
    violationsDropped: sink.dropped,
  };
  return checkResult('election', sink.violations, stats);
}
