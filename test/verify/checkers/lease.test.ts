import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { checkLease } from '../../../src/verify/checkers';
import type { LeaseHistory } from '../../../src/verify/history';

function validHistory(): LeaseHistory {
  return {
    leases: [
      { leaseId: 100n, keys: ['live/1', 'live/2'], keptAlive: true },
      { leaseId: 200n, keys: ['dead/1'], keptAlive: false, expiredAtMs: 5000 },
      // Re-created afterwards without a lease by someone else: not this lease's key any more.
      { leaseId: 300n, keys: ['reused'], keptAlive: false, expiredAtMs: 6000 },
    ],
    finalKeys: {
      'live/1': { value: 'a', lease: 100n },
      'live/2': { value: 'b', lease: 100n },
      reused: { value: 'c', lease: 0n },
    },
  };
}

describe('lease checker', () => {
  test('expired keys gone, kept-alive keys present: passes', () => {
    const result = checkLease(validHistory());
    assert.equal(result.outcome, 'valid', JSON.stringify(result.violations));
  });

  test('a key of an expired lease still present is a violation', () => {
    const history = validHistory();
    history.finalKeys['dead/1'] = { value: 'x', lease: 200n };
    const result = checkLease(history);
    assert.equal(result.outcome, 'invalid');
    assert.match(result.violations[0]!.message, /"dead\/1" of lease 200, expired at 5000 ms, is still present/);
  });

  test('a key of a kept-alive lease that vanished or moved is a violation', () => {
    const history = validHistory();
    delete history.finalKeys['live/1'];
    history.finalKeys['live/2'] = { value: 'b', lease: 7n };
    const found = checkLease(history).violations.map((v) => v.message);
    assert.ok(found.some((m) => /"live\/1" of kept-alive lease 100 vanished/.test(m)), found.join('\n'));
    assert.ok(found.some((m) => /"live\/2" of kept-alive lease 100 is now attached to lease 7/.test(m)), found.join('\n'));
  });
});
