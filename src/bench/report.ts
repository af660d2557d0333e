import type { Histogram, LatencySummary } from './histogram';

/** The outcome of one workload run: what `--json` prints and what bench:compare tabulates. */
export interface BenchReport {
  workload: string;
  /** The options that shape the numbers (clients, conns, sizes, …). */
  settings: Record<string, number | string | boolean>;
  ops: number;
  errors: number;
  firstError?: string;
  elapsedSeconds: number;
  throughputPerSecond: number;
  latency: LatencySummary;
  histogram: Array<{ upToMs: number; count: number }>;
  /** Workload-specific measurements (election-failover: leaderElectedMs, campaignerElectedMs). */
  extra: Record<string, number | string>;
}

export function buildReport(
  workload: string,
  settings: BenchReport['settings'],
  run: { histogram: Histogram; ops: number; errors: number; firstError?: string; elapsedMs: number },
  extra: BenchReport['extra'] = {},
): BenchReport {
  const elapsedSeconds = run.elapsedMs / 1000;
  return {
    workload,
    settings,
    ops: run.ops,
    errors: run.errors,
    ...(run.firstError !== undefined ? { firstError: run.firstError } : {}),
    elapsedSeconds,
    throughputPerSecond: elapsedSeconds > 0 ? run.ops / elapsedSeconds : 0,
    latency: run.histogram.summary(),
    histogram: run.histogram.coarseBuckets(),
    extra,
  };
}

const HISTOGRAM_BAR_WIDTH = 40;

function ms(value: number): string {
  return `${value.toFixed(value < 10 ? 3 : 1)} ms`;
}

/** The human-readable summary, in the spirit of etcd's benchmark output. */
export function formatReport(report: BenchReport): string {
  const { latency } = report;
  const lines = [
    `Summary (${report.workload}):`,
    `  Total:        ${report.elapsedSeconds.toFixed(3)} s`,
    `  Ops:          ${report.ops} (${report.errors} errors)`,
    `  Requests/sec: ${report.throughputPerSecond.toFixed(1)}`,
    `  Fastest:      ${ms(latency.minMs)}`,
    `  Average:      ${ms(latency.meanMs)}`,
    `  Slowest:      ${ms(latency.maxMs)}`,
  ];
  if (report.firstError !== undefined) lines.push(`  First error:  ${report.firstError}`);
  for (const [key, value] of Object.entries(report.extra)) lines.push(`  ${key}: ${typeof value === 'number' ? value.toFixed(1) : value}`);
  lines.push('', 'Latency distribution:');
  lines.push(`  p50 ${ms(latency.p50Ms)}`, `  p90 ${ms(latency.p90Ms)}`, `  p99 ${ms(latency.p99Ms)}`);
  lines.push(`  p99.9 ${ms(latency.p999Ms)}`, `  max ${ms(latency.maxMs)}`);
  lines.push('', 'Response time histogram (upper bound, count):');
  const largest = Math.max(1, ...report.histogram.map((row) => row.count));
  for (const row of report.histogram) {
    const bar = '∎'.repeat(Math.round((row.count / largest) * HISTOGRAM_BAR_WIDTH));
    lines.push(`  ≤ ${String(row.upToMs).padStart(9)} ms [${String(row.count).padStart(8)}] |${bar}`);
  }
  return `${lines.join('\n')}\n`;
}
