import type { BenchReport } from '../src/bench/report';
import type { ClusterKind } from '../src/bench/cluster';
import { PLAN, PlannedWorkload } from './plan';

/** One workload run on one cluster in one repeat. */
export interface RunRecord {
  repeat: number;
  kind: ClusterKind;
  label: string;
  report?: BenchReport;
  /** Set when the workload could not run at all. */
  failure?: string;
}

export interface RssRecord {
  repeat: number;
  kind: ClusterKind;
  bytesPerMember: number[];
}

/** Medians over the repeats of one workload on one kind. */
export interface KindSummary {
  runs: number;
  errors: number;
  failures: number;
  throughput: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  p999Ms: number;
  maxMs: number;
  leaderElectedMs: number;
  campaignerElectedMs: number;
}

export interface WorkloadSummary {
  planned: PlannedWorkload;
  etcd: KindSummary;
  latchkey: KindSummary;
}

export function median(values: number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

function summarise(records: RunRecord[]): KindSummary {
  const reports = records.flatMap((r) => (r.report === undefined ? [] : [r.report]));
  const pick = (f: (r: BenchReport) => number): number => median(reports.map(f));
  const extra = (name: string) => (r: BenchReport): number => Number(r.extra[name] ?? Number.NaN);
  return {
    runs: reports.length,
    errors: reports.reduce((sum, r) => sum + r.errors, 0),
    failures: records.filter((r) => r.failure !== undefined).length,
    throughput: pick((r) => r.throughputPerSecond),
    p50Ms: pick((r) => r.latency.p50Ms),
    p90Ms: pick((r) => r.latency.p90Ms),
    p99Ms: pick((r) => r.latency.p99Ms),
    p999Ms: pick((r) => r.latency.p999Ms),
    maxMs: pick((r) => r.latency.maxMs),
    leaderElectedMs: pick(extra('leaderElectedMs')),
    campaignerElectedMs: pick(extra('campaignerElectedMs')),
  };
}

export function summariseAll(records: RunRecord[]): WorkloadSummary[] {
  return PLAN.map((planned) => ({
    planned,
    etcd: summarise(records.filter((r) => r.label === planned.label && r.kind === 'etcd')),
    latchkey: summarise(records.filter((r) => r.label === planned.label && r.kind === 'latchkey')),
  }));
}

/** Median over repeats of the largest member RSS, in bytes. */
export function medianMaxRss(records: RssRecord[], kind: ClusterKind): number {
  return median(records.filter((r) => r.kind === kind && r.bytesPerMember.length > 0).map((r) => Math.max(...r.bytesPerMember)));
}
