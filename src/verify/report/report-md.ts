import type { CheckResult } from '../history';
import type { FaultEvent } from '../faults/types';
import type { Counters } from '../runner/recorder';

/** report.md: the run's parameters, checker results and fault schedule. */

export interface RunSummary {
  target: string;
  members: number;
  workload: string;
  faults: string;
  seed: number;
  durationMs: number;
  counters: Counters;
  quiescence: { ok: boolean; detail: string };
  /** Peer connections through the fault proxies whose dialing member was identified / not. */
  peerConnections: { attributed: number; unattributed: number };
  checks: CheckResult[];
  faultEvents: FaultEvent[];
  /** Said once near the top, e.g. fault kinds not available on the target. */
  notes: string[];
  verdict: string;
}

/** Table-cell text: a partition's `{a} | {b}` must not split the row. */
function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

function seconds(ms: number): string {
  return (ms / 1000).toFixed(2);
}

export function renderReport(s: RunSummary): string {
  const lines: string[] = [];
  lines.push(`# latchkey verify — ${s.verdict}`, '');
  lines.push(`- target: ${s.target}, members: ${s.members}, workload: ${s.workload}, faults: ${s.faults}, seed: ${s.seed}`);
  lines.push(`- duration: ${seconds(s.durationMs)} s; operations ok ${s.counters.ok}, fail ${s.counters.fail}, unknown ${s.counters.unknown}`);
  lines.push(`- peer connections through the fault proxies: ${s.peerConnections.attributed} attributed to their dialing member, ${s.peerConnections.unattributed} not (only 'blockAll' cuts those)`);
  for (const note of s.notes) lines.push(`- note: ${note}`);
  lines.push(`- quiescence after heal: ${s.quiescence.ok ? 'reached' : 'NOT reached'} (${s.quiescence.detail})`);
  lines.push('- member logs: logs/<member>.log (every process start and exit is marked)', '');
  lines.push('## Checkers', '', '| checker | outcome | violations | stats |', '|---|---|---|---|');
  for (const c of s.checks) {
    const stats = Object.entries(c.stats).map(([k, v]) => `${k}=${v}`).join(', ');
    lines.push(`| ${c.checker} | ${c.outcome} | ${c.violations.length} | ${stats} |`);
  }
  const violations = s.checks.flatMap((c) => c.violations).slice(0, 50);
  if (violations.length > 0) {
    lines.push('', '### Violations (first 50)', '');
    for (const v of violations) lines.push(`- **${v.checker}**: ${v.message.replace(/\n/g, ' ')}${v.operations ? ` (ops ${v.operations.join(', ')})` : ''}`);
  }
  lines.push('', '## Fault schedule', '', '| start s | end s | fault | detail |', '|---|---|---|---|');
  for (const f of s.faultEvents) {
    lines.push(`| ${seconds(f.startMs)} | ${seconds(f.endMs)} | ${f.kind} | ${cell(f.skipped !== undefined ? `skipped: ${f.skipped}` : f.detail)} |`);
  }
  if (s.faultEvents.length === 0) lines.push('| – | – | none | |');
  lines.push('', 'Timeline: [timeline.svg](timeline.svg); full history: history.json.', '');
  return lines.join('\n');
}
