import type { CheckResult } from '../history';

const violationsShownPerChecker = 5;

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

/** A markdown report: one table row per checker, then the first violations of each. */
export function renderReport(results: readonly CheckResult[]): string {
  const lines = ['| checker | result | violations | stats |', '|---|---|---|---|'];
  for (const result of results) {
    const mark = result.outcome === 'valid' ? '✅ valid' : result.outcome === 'invalid' ? '❌ invalid' : '❔ unknown (budget exhausted)';
    const stats = Object.entries(result.stats).map(([name, value]) => `${name}=${value}`).join(', ');
    lines.push(`| ${cell(result.checker)} | ${mark} | ${result.violations.length} | ${cell(stats)} |`);
  }
  for (const result of results) {
    if (result.violations.length === 0) continue;
    lines.push('', `### ${result.checker}: ${result.violations.length} violation(s)`);
    for (const violation of result.violations.slice(0, violationsShownPerChecker)) {
      const operations = violation.operations !== undefined ? ` (ops ${violation.operations.join(', ')})` : '';
      lines.push(`- ${violation.message}${operations}`);
    }
    if (result.violations.length > violationsShownPerChecker) lines.push(`- … ${result.violations.length - violationsShownPerChecker} more`);
  }
  return lines.join('\n') + '\n';
}
