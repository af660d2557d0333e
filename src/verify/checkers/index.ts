/**
 * The history checkers. Each takes a recorded history (see ../history) and returns a
 * CheckResult; none has side effects. 'unknown' means a budget ran out: never read it as valid.
 *
 *   checkRegister(operations: readonly RegisterOperation[], options?: RegisterCheckOptions): CheckResult
 *   checkAppend(history: AppendHistory): CheckResult
 *   checkWatch(history: WatchHistory): CheckResult
 *   checkLock(history: LockHistory): CheckResult
 *   checkElection(history: ElectionHistory): CheckResult
 *   checkLease(history: LeaseHistory): CheckResult
 *   renderReport(results: readonly CheckResult[]): string   (markdown)
 *   historyToJson(history: unknown): string / historyFromJson<T>(text: string): T   (bigint, Infinity safe)
 */
export { checkRegister, type RegisterCheckOptions } from './register';
export { checkAppend } from './append';
export { checkWatch } from './watch';
export { checkLock } from './lock';
export { checkElection } from './election';
export { checkLease } from './lease';
export { renderReport } from './report';
export { historyToJson, historyFromJson } from './history-json';
