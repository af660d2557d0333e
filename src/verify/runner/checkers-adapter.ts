import type { AppendHistory, CheckResult, ElectionHistory, LeaseHistory, LockHistory, RegisterOperation, WatchHistory } from '../history';
import { checkAppend, checkElection, checkLease, checkLock, checkRegister, checkWatch } from '../checkers';

/**
 * The one place the runner calls the checkers (src/verify/checkers), with the runner's
 * budgets. A checker that runs out of budget answers 'unknown', which the runner reports as
 * an inconclusive verdict, never as a pass.
 */

/** Wall-clock budget for the register linearizability search. */
const REGISTER_TIME_LIMIT_MS = 60_000;

export function checkRegisterHistory(operations: readonly RegisterOperation[]): CheckResult {
  return checkRegister(operations, { timeLimitMs: REGISTER_TIME_LIMIT_MS });
}

export function checkAppendHistory(history: AppendHistory): CheckResult {
  return checkAppend(history);
}

export function checkLockHistory(history: LockHistory): CheckResult {
  return checkLock(history);
}

export function checkLeaseHistory(history: LeaseHistory): CheckResult {
  return checkLease(history);
}

export function checkWatchHistory(history: WatchHistory): CheckResult {
  return checkWatch(history);
}

export function checkElectionHistory(history: ElectionHistory): CheckResult {
  return checkElection(history);
}
