import type { AppendHistory, CheckResult, LeaseHistory, LockHistory, RegisterOperation } from '../history';
import { checkRegister } from '../checkers/register';

/**
 * The one place the runner calls the checkers (src/verify/checkers, written separately).
 * Checkers not yet available answer 'unknown' — never 'valid' — so a run without its checker
 * cannot pass silently.
 */

function notAvailable(checker: string): CheckResult {
  return {
    checker,
    valid: false,
    outcome: 'unknown',
    violations: [{ checker, message: `checker '${checker}' is not available in this build` }],
    stats: {},
  };
}

export function checkRegisterHistory(operations: readonly RegisterOperation[]): CheckResult {
  return checkRegister(operations, { timeLimitMs: 60_000 });
}

export function checkAppendHistory(_history: AppendHistory): CheckResult {
  return notAvailable('append');
}

export function checkLockHistory(_history: LockHistory): CheckResult {
  return notAvailable('lock');
}

export function checkLeaseHistory(_history: LeaseHistory): CheckResult {
  return notAvailable('lease');
}
