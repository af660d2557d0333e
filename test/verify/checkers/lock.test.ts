import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { checkLock } from '../../../src/verify/checkers';
import type { LockHistory } from '../../../src/verify/history';

function validHistory(): LockHistory {
  return {
    holds: [
      { holder: 1, token: 10n, acquiredMs: 0, releasedMs: 10 },
      { holder: 2, token: 12n, acquiredMs: 11, releasedMs: 20 },
      // Holder 3 lost its session (partitioned) and kept writing: fencing must reject it.
      { holder: 3, token: 15n, acquiredMs: 21, releasedMs: Infinity },
      { holder: 1, token: 20n, acquiredMs: 40, releasedMs: 50 },
    ],
    resourceLog: [
      { holder: 1, token: 10n, acceptedMs: 1, accepted: true },
      { holder: 1, token: 10n, acceptedMs: 5, accepted: true },
      { holder: 2, token: 12n, acceptedMs: 12, accepted: true },
      { holder: 3, token: 15n, acceptedMs: 22, accepted: true },
      { holder: 1, token: 20n, acceptedMs: 41, accepted: true },
      { holder: 3, token: 15n, acceptedMs: 42, accepted: false },
    ],
  };
}

function messages(history: LockHistory): string[] {
  return checkLock(history).violations.map((violation) => violation.message);
}

describe('lock checker', () => {
  test('a fenced history passes', () => {
    const result = checkLock(validHistory());
    assert.equal(result.outcome, 'valid', JSON.stringify(result.violations));
    assert.equal(result.stats['writesRejected'], 1);
  });

  test('a token accepted after a higher one is a violation', () => {
    const history = validHistory();
    history.resourceLog[5]!.accepted = true;
    assert.ok(messages(history).some((m) => /accepted token 15 \(holder 3\) after higher token 20/.test(m)));
  });

  test('two holders writing during overlapping intervals is a violation', () => {
    const history = validHistory();
    // Holder 2's writes straddle holder 1's last write even though the log stays monotonic.
    history.resourceLog.splice(2, 0, { holder: 2, token: 12n, acceptedMs: 3, accepted: true });
    assert.ok(messages(history).some((m) => /tokens 10 and 12 both wrote/.test(m)));
  });

  test('a token issued twice, or never issued, or used by the wrong holder, is a violation', () => {
    const history = validHistory();
    history.holds.push({ holder: 4, token: 12n, acquiredMs: 60, releasedMs: 61 });
    history.resourceLog.push({ holder: 9, token: 99n, acceptedMs: 70, accepted: true });
    history.resourceLog.push({ holder: 2, token: 20n, acceptedMs: 71, accepted: true });
    const found = messages(history);
    assert.ok(found.some((m) => /accepted token 20 from holder 2; it was issued to 1/.test(m)), found.join('\n'));
    assert.ok(found.some((m) => /token 12 was issued twice/.test(m)), found.join('\n'));
    assert.ok(found.some((m) => /token 99, which was never issued/.test(m)), found.join('\n'));
  });

  test('a hold acquired after a release with a lower token is a violation', () => {
    const history = validHistory();
    history.holds.push({ holder: 5, token: 11n, acquiredMs: 60, releasedMs: 61 });
    assert.ok(messages(history).some((m) => /holder 5 acquired token 11 after holder \d released higher-or-equal token/.test(m)));
  });
});
