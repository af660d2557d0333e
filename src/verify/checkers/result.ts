import type { CheckOutcome, CheckResult, Violation } from '../history';

/** Builds a CheckResult; 'unknown' (budget exhausted) wins over 'valid', never over 'invalid'. */
export function checkResult(
  checker: string,
  violations: Violation[],
  stats: Record<string, number>,
  budgetExhausted = false,
): CheckResult {
  let outcome: CheckOutcome = 'valid';
  if (violations.length > 0) outcome = 'invalid';
  else if (budgetExhausted) outcome = 'unknown';
  return { checker, valid: outcome === 'valid', outcome, violations, stats };
}

/** Violations are capped so a badly broken history yields a readable report. */
export const maxViolationsPerChecker = 100;

/** Collects violations up to the cap, counting the ones dropped. */
export class ViolationSink {
  readonly violations: Violation[] = [];
  dropped = 0;

  constructor(private readonly checker: string) {}

  add(message: string, operations?: number[]): void {
    if (this.violations.length >= maxViolationsPerChecker) {
      this.dropped++;
      return;
    }
    const violation: Violation = { checker: this.checker, message };
    if (operations !== undefined) violation.operations = operations;
    this.violations.push(violation);
  }
}
