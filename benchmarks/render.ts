import { medianMaxRss, RssRecord, WorkloadSummary } from './summary';

/**
 * The results file: a Markdown table of latchkey/etcd ratios (median of the repeats) and an
 * SVG chart of the same ratios for throughput and latency percentiles.
 */

export interface RunInfo {
  date: string;
  commit: string;
  mode: string;
  repeats: number;
  durationSeconds: number;
  /** Unmeasured warm-up run before each measured one. */
  warmupSeconds: number;
  /** Unmeasured put load on each fresh cluster before its first warm row. */
  clusterWarmupSeconds: number;
  machine: string;
  etcdVersion: string;
  nodeVersion: string;
  wallSeconds: number;
  /** 1/5/15-minute load averages at the end: other work on the machine skews the numbers. */
  loadAverage: string;
  /** Share of the machine's CPU time the hypervisor took during the run (NaN off Linux). */
  stealPercent: number;
}

/** Targets from issue 6: throughput ratio floor / latency ratio ceiling per row. */
const TARGETS: Record<string, { throughput?: string; p99?: string }> = {
  'put, 64 clients': { throughput: '≥ 1.0', p99: '≤ 1.0' },
  'put, 256 clients': { throughput: '≥ 1.0', p99: '≤ 1.0' },
  'range linearizable, 64 clients': { throughput: '≥ 1.0' },
  'range serializable, 64 clients': { throughput: '≥ 1.0' },
  'lock, 1 name, 16 clients': { throughput: '≥ 1.0' },
  'lock, 64 names, 64 clients': { throughput: '≥ 1.0' },
  'v3lock RPC, 1 name, 16 clients': { throughput: '≥ 1.0' },
  'v3lock RPC, 64 names, 64 clients': { throughput: '≥ 1.0' },
};

function num(value: number, digits = 1): string {
  return Number.isFinite(value) ? value.toFixed(digits) : '–';
}

function ratio(latchkey: number, etcd: number): number {
  return etcd > 0 && Number.isFinite(latchkey) && Number.isFinite(etcd) ? latchkey / etcd : Number.NaN;
}

function ratioText(value: number): string {
  return Number.isFinite(value) ? `${value.toFixed(2)}×` : '–';
}

export function renderTable(summaries: WorkloadSummary[], rss: RssRecord[]): string {
  const rows = [
    '| workload | etcd ops/s | latchkey ops/s | ratio ops/s | target | etcd p99 ms | latchkey p99 ms | ratio p99 | target | errors etcd/latchkey |',
    '|---|---:|---:|---:|---|---:|---:|---:|---|---:|',
  ];
  for (const { planned, etcd, latchkey } of summaries) {
    const errors = `${etcd.errors + etcd.failures}/${latchkey.errors + latchkey.failures}`;
    if (planned.kind === 'failover') {
      for (const [what, field] of [['new raft leader', 'leaderElectedMs'], ['new election winner', 'campaignerElectedMs']] as const) {
        rows.push(
          `| ${planned.label}: ${what} (ms, lower is better) | ${num(etcd[field], 0)} | ${num(latchkey[field], 0)} | ${ratioText(ratio(latchkey[field], etcd[field]))} | ≤ 1.0 | | | | | ${errors} |`,
        );
      }
      continue;
    }
    const target = TARGETS[planned.label] ?? {};
    rows.push(
      `| ${planned.label} | ${num(etcd.throughput)} | ${num(latchkey.throughput)} | ${ratioText(ratio(latchkey.throughput, etcd.throughput))} | ${target.throughput ?? ''} | ${num(etcd.p99Ms, 2)} | ${num(latchkey.p99Ms, 2)} | ${ratioText(ratio(latchkey.p99Ms, etcd.p99Ms))} | ${target.p99 ?? ''} | ${errors} |`,
    );
  }
  const mib = (bytes: number): number => bytes / (1024 * 1024);
  const etcdRss = medianMaxRss(rss, 'etcd');
  const latchkeyRss = medianMaxRss(rss, 'latchkey');
  rows.push(`| RSS of the largest member after the workloads (MiB) | ${num(mib(etcdRss))} | ${num(mib(latchkeyRss))} | ${ratioText(ratio(latchkeyRss, etcdRss))} | | | | | | |`);
  return rows.join('\n');
}

/** A one-row table: the largest member's RSS, median over repeats, etcd vs latchkey. */
export function renderRssTable(label: string, rss: RssRecord[]): string {
  const mib = (bytes: number): number => bytes / (1024 * 1024);
  const etcd = medianMaxRss(rss, 'etcd');
  const latchkey = medianMaxRss(rss, 'latchkey');
  return [
    '| measurement | etcd MiB | latchkey MiB | ratio | target |',
    '|---|---:|---:|---:|---|',
    `| ${label} | ${num(mib(etcd))} | ${num(mib(latchkey))} | ${ratioText(ratio(latchkey, etcd))} | ≤ 1.5 |`,
  ].join('\n');
}

export function renderLatencyTable(summaries: WorkloadSummary[]): string {
  const rows = ['| workload | kind | p50 ms | p90 ms | p99 ms | p99.9 ms | max ms |', '|---|---|---:|---:|---:|---:|---:|'];
  for (const { planned, etcd, latchkey } of summaries) {
    if (planned.kind === 'failover') continue;
    for (const [kind, s] of [['etcd', etcd], ['latchkey', latchkey]] as const) {
      rows.push(`| ${planned.label} | ${kind} | ${num(s.p50Ms, 2)} | ${num(s.p90Ms, 2)} | ${num(s.p99Ms, 2)} | ${num(s.p999Ms, 2)} | ${num(s.maxMs, 2)} |`);
    }
  }
  return rows.join('\n');
}

export function renderMarkdown(info: RunInfo, summaries: WorkloadSummary[], rss: RssRecord[], svgFile: string): string {
  return [
    `# latchkey vs etcd — ${info.date}`,
    '',
    `Commit \`${info.commit}\`; mode **${info.mode}**: ${info.repeats} repeats, ${info.durationSeconds} s per workload after ${info.warmupSeconds} s of the same workload unmeasured (both targets), etcd and latchkey runs interleaved;`,
    `each fresh cluster first takes ${info.clusterWarmupSeconds} s of unmeasured put load (64 clients), except for the cold row, measured before it with no warm-up at all;`,
    `3-member clusters on loopback (--heartbeat-interval 100 --election-timeout 1000 --snapshot-count 10000, fsync on), 256-byte values, the same client (\`latchkey benchmark\`) for both.`,
    `Machine: ${info.machine}; etcd ${info.etcdVersion}; node ${info.nodeVersion}; wall time ${Math.round(info.wallSeconds)} s; load average at the end ${info.loadAverage}; CPU time stolen by the hypervisor during the run ${Number.isFinite(info.stealPercent) ? `${info.stealPercent.toFixed(1)} %` : 'unknown'}.`,
    '',
    'Ratios are latchkey / etcd of the medians over the repeats: above 1.0× is better for ops/s, below 1.0× is better for latency and failover times.',
    '',
    renderTable(summaries, rss),
    '',
    `![throughput and latency ratios](${svgFile})`,
    '',
    '## Latency percentiles (median of the repeats)',
    '',
    renderLatencyTable(summaries),
    '',
  ].join('\n');
}

const ROW_HEIGHT = 18;
const LABEL_WIDTH = 230;
const PANEL_WIDTH = 330;
const MIN_LOG2 = -4;
const MAX_LOG2 = 4;
const SERIES = [
  { name: 'ops/s', color: '#2b7bba', pick: (s: WorkloadSummary) => ratio(s.latchkey.throughput, s.etcd.throughput) },
  { name: 'p50', color: '#8fbf5a', pick: (s: WorkloadSummary) => ratio(s.latchkey.p50Ms, s.etcd.p50Ms) },
  { name: 'p90', color: '#e0b03a', pick: (s: WorkloadSummary) => ratio(s.latchkey.p90Ms, s.etcd.p90Ms) },
  { name: 'p99', color: '#e07a3a', pick: (s: WorkloadSummary) => ratio(s.latchkey.p99Ms, s.etcd.p99Ms) },
  { name: 'p99.9', color: '#c0392b', pick: (s: WorkloadSummary) => ratio(s.latchkey.p999Ms, s.etcd.p999Ms) },
];

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Horizontal bars of log2(latchkey/etcd) per workload: one bar per series, 1.0× in the middle. */
export function renderSvg(summaries: WorkloadSummary[], title: string): string {
  const rows = summaries.filter((s) => s.planned.kind === 'throughput');
  const groupHeight = ROW_HEIGHT * SERIES.length + 10;
  const top = 60;
  const height = top + rows.length * groupHeight + 30;
  const width = LABEL_WIDTH + PANEL_WIDTH + 90;
  const x = (log2: number): number => LABEL_WIDTH + ((Math.min(MAX_LOG2, Math.max(MIN_LOG2, log2)) - MIN_LOG2) / (MAX_LOG2 - MIN_LOG2)) * PANEL_WIDTH;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="10" y="18" font-size="14" font-weight="bold">${escapeXml(title)}</text>`,
    `<text x="10" y="34">latchkey / etcd (log scale). ops/s: right of 1× is better; latency percentiles: left of 1× is better.</text>`,
  ];
  for (let tick = MIN_LOG2; tick <= MAX_LOG2; tick++) {
    const label = tick >= 0 ? `${2 ** tick}×` : `1/${2 ** -tick}×`;
    parts.push(`<line x1="${x(tick)}" y1="${top - 8}" x2="${x(tick)}" y2="${height - 25}" stroke="${tick === 0 ? '#000' : '#ddd'}"/>`);
    parts.push(`<text x="${x(tick)}" y="${height - 12}" text-anchor="middle">${label}</text>`);
  }
  rows.forEach((summary, row) => {
    const y0 = top + row * groupHeight;
    parts.push(`<text x="${LABEL_WIDTH - 8}" y="${y0 + groupHeight / 2}" text-anchor="end">${escapeXml(summary.planned.label)}</text>`);
    SERIES.forEach((series, i) => {
      const value = series.pick(summary);
      const y = y0 + i * ROW_HEIGHT;
      if (!Number.isFinite(value) || value <= 0) return;
      const log2 = Math.log2(value);
      const [from, to] = [x(0), x(log2)].sort((a, b) => a - b);
      parts.push(`<rect x="${from}" y="${y + 2}" width="${Math.max(1, to! - from!)}" height="${ROW_HEIGHT - 4}" fill="${series.color}"/>`);
      parts.push(`<text x="${LABEL_WIDTH + PANEL_WIDTH + 6}" y="${y + ROW_HEIGHT - 5}">${series.name} ${value.toFixed(2)}×</text>`);
    });
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}
