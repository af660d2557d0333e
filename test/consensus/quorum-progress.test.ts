import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { Inflights } from '../../src/consensus/inflights';
import { Progress } from '../../src/consensus/progress';
import { majorityCommittedIndex, majorityVoteResult } from '../../src/consensus/quorum';

describe('quorum arithmetic', () => {
  const matches = (m: Record<string, bigint>) => (id: bigint) => m[String(id)] ?? 0n;

  test('the committed index is the highest index stored on a majority', () => {
    const voters = new Set([1n, 2n, 3n]);
    assert.equal(majorityCommittedIndex(voters, matches({ 1: 5n, 2: 3n, 3: 1n })), 3n);
    const four = new Set([1n, 2n, 3n, 4n]);
    assert.equal(majorityCommittedIndex(four, matches({ 1: 9n, 2: 7n, 3: 5n, 4: 1n })), 5n, '3 of 4 needed');
    assert.equal(majorityCommittedIndex(new Set([1n]), matches({ 1: 4n })), 4n);
  });

  test('the committed index matches a plain sort for any order, duplicates and set sizes in turn', () => {
    // The function reuses one scratch array: a small set right after a large one must not
    // see the large one's values.
    let seed = 7;
    const next = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % 6;
    for (let round = 0; round < 500; round++) {
      const size = 1 + (round % 7);
      const voters = new Set(Array.from({ length: size }, (_, i) => BigInt(i + 1)));
      const values: Record<string, bigint> = {};
      for (const id of voters) values[String(id)] = BigInt(next());
      const sorted = Object.values(values).sort((a, b) => (a > b ? -1 : a < b ? 1 : 0));
      const expected = sorted[Math.floor(size / 2)];
      assert.equal(majorityCommittedIndex(voters, matches(values)), expected, JSON.stringify(values, (_k, v) => String(v)));
    }
  });

  test('vote results: won, lost or still pending', () => {
    const voters = new Set([1n, 2n, 3n, 4n, 5n]);
    assert.equal(majorityVoteResult(voters, new Map([[1n, true], [2n, true]])), 'pending');
    assert.equal(majorityVoteResult(voters, new Map([[1n, true], [2n, true], [3n, true]])), 'won');
    assert.equal(majorityVoteResult(voters, new Map([[1n, false], [2n, false], [3n, false]])), 'lost');
    // Votes from non-voters (learners) do not count.
    assert.equal(majorityVoteResult(new Set([1n, 2n, 3n]), new Map([[1n, true], [9n, true]])), 'pending');
  });
});

describe('progress and inflights', () => {
  test('the inflight window fills, frees acknowledged messages and rejects overflow', () => {
    const w = new Inflights(3);
    w.add(5n);
    w.add(7n);
    w.add(9n);
    assert.equal(w.full(), true);
    assert.throws(() => w.add(11n));
    w.freeLE(7n);
    assert.equal(w.count(), 1);
    assert.throws(() => w.add(8n), /not above/);
  });

  test('a probing follower pauses after one append and rejections move next back', () => {
    const pr = new Progress(0n, 11n, 4, false);
    assert.equal(pr.isPaused(), false);
    pr.probeSent = true;
    assert.equal(pr.isPaused(), true);
    assert.equal(pr.maybeDecrTo(10n, 4n), true);
    assert.equal(pr.next, 5n);
    assert.equal(pr.maybeDecrTo(10n, 4n), false, 'stale rejection ignored');
    assert.equal(pr.maybeUpdate(4n), true);
    pr.becomeReplicate();
    assert.equal(pr.next, 5n);
    pr.becomeSnapshot(20n);
    assert.equal(pr.isPaused(), true);
    pr.becomeProbe();
    assert.equal(pr.next, 21n);
  });
});
