import type { FaultKind } from '../faults/types';
import type { RunSummary } from './report-md';

/**
 * summary.json: one run's figures in machine-readable form, for campaign tables
 * (scripts/verify-campaign.mjs) — verdict, operations, faults injected per kind, anomalies
 * and acknowledged writes lost.
 */

export interface RunSummaryJson {
  verdict: string;
  line: string;
  target: string;
  members: number;
  seed: number;
  workloads: string[];
  durationMs: number;
  ops: { total: number; ok: number; fail: number; unknown: number };
  faults: {
    requested: FaultKind[];
    /** Requested but not available on this target (failpoints on etcd). */
    unavailable: FaultKind[];
    /** Applied, per kind. */
    injected: Partial<Record<FaultKind, number>>;
    /** Attempted but could not be applied (e.g. no leader), per kind. */
    skipped: Partial<Record<FaultKind, number>>;
  };
  /** Every checker violation (lost writes included). */
  anomalies: number;
  /**
   * Acknowledged writes missing afterwards, as the append checker names them. The register
   * checker reports a lost write as a linearizability violation (counted in anomalies).
   */
  lostAcknowledgedWrites: number;
  checks: { checker: string; outcome: string; violations: number }[];
  quiescence: { ok: boolean; detail: string };
}

const LOST_ACKNOWLEDGED = /acknowledged .* is lost/;

export function buildRunSummaryJson(s: RunSummary, verdict: string, requested: readonly FaultKind[], unavailable: readonly FaultKind[]): RunSummaryJson {
  const injected: Partial<Record<FaultKind, number>> = {};
  const skipped: Partial<Record<FaultKind, number>> = {};
  for (const event of s.faultEvents) {
    const counts = event.skipped === undefined ? injected : skipped;
    counts[event.kind] = (counts[event.kind] ?? 0) + 1;
  }
  const violations = s.checks.flatMap((c) => c.violations);
  return {
    verdict,
    line: s.verdict,
    target: s.target,
    members: s.members,
    seed: s.seed,
    workloads: s.workload.split(','),
    durationMs: Math.round(s.durationMs),
    ops: { total: s.counters.ok + s.counters.fail + s.counters.unknown, ...s.counters },
    faults: { requested: [...requested], unavailable: [...unavailable], injected, skipped },
    anomalies: s.checks.reduce((n, c) => n + c.violations.length + (c.stats.violationsDropped ?? 0), 0),
    lostAcknowledgedWrites: violations.filter((v) => LOST_ACKNOWLEDGED.test(v.message)).length,
    checks: s.checks.map((c) => ({ checker: c.checker, outcome: c.outcome, violations: c.violations.length })),
    quiescence: s.quiescence,
  };
}

export function runSummaryJson(s: RunSummary, verdict: string, requested: readonly FaultKind[], unavailable: readonly FaultKind[]): string {
  return `${JSON.stringify(buildRunSummaryJson(s, verdict, requested, unavailable), null, 2)}\n`;
}
