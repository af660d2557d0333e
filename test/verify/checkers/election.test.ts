import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { checkElection } from '../../../src/verify/checkers';
import type { ElectionHistory, LeaderObservation } from '../../../src/verify/history';

function saw(observer: number, term: number, leader: string, atMs: number): LeaderObservation {
  return { observer, term: BigInt(term), leaderKey: `election/${term}`, leaderValue: leader, atMs };
}

function validHistory(): ElectionHistory {
  return {
    observations: [
      saw(1, 5, 'n1', 0),
      saw(2, 5, 'n1', 1),
      saw(1, 8, 'n2', 10),
      // Observer 2 skipped term 8 (it was partitioned): a subsequence is fine.
      saw(2, 11, 'n3', 20),
      saw(1, 11, 'n3', 21),
      saw(1, 11, 'n3', 22),
    ],
  };
}

describe('election checker', () => {
  test('one leader per term, observers in term order: passes', () => {
    const result = checkElection(validHistory());
    assert.equal(result.outcome, 'valid', JSON.stringify(result.violations));
    assert.equal(result.stats['terms'], 3);
  });

  test('two leaders in one term is a violation', () => {
    const history = validHistory();
    history.observations.push({ ...saw(3, 8, 'n4', 11), leaderKey: 'election/8' });
    const result = checkElection(history);
    assert.equal(result.outcome, 'invalid');
    assert.match(result.violations[0]!.message, /term 8 has two leaders/);
  });

  test('an observer that sees leaders go backwards disagrees with the global order', () => {
    const history = validHistory();
    history.observations.push(saw(2, 8, 'n2', 30));
    const result = checkElection(history);
    assert.equal(result.outcome, 'invalid');
    assert.match(result.violations[0]!.message, /observer 2 saw term 8 .* after term 11 .*out of order/);
  });

  test('one leader key under two terms is a violation', () => {
    const history = validHistory();
    history.observations.push({ ...saw(3, 12, 'n3', 40), leaderKey: 'election/11' });
    assert.ok(checkElection(history).violations.some((v) => /appears under terms 11 and 12/.test(v.message)));
  });
});
