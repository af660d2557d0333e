import { FAILPOINT_FAULT_KINDS, NETWORK_AND_PROCESS_FAULT_KINDS, type FaultEvent, type FaultKind } from '../faults/types';
import type { TimelineBar } from '../runner/recorder';

/**
 * timeline.svg: one row per client, each operation a bar from its start to its end,
 * green ok / red fail / orange unknown; faults as shaded vertical bands labelled on top,
 * one colour per fault kind (blues: processes, purples: network, reds: failpoints), with a
 * legend of every kind at the bottom.
 */

/** Band colour per fault kind; the legend lists them all. */
export const FAULT_COLORS: Record<FaultKind, string> = {
  kill: '#1f5fbf',
  'kill-leader': '#3b7dd8',
  pause: '#5aa0e6',
  'leader-transfer': '#2a9d8f',
  'member-change': '#52b69a',
  partition: '#7a5cff',
  'partition-leader': '#9b6bff',
  bridge: '#b84fd6',
  'one-way': '#d05fb0',
  'crash-before-fsync': '#b3261e',
  'crash-after-fsync': '#d9480f',
  'crash-after-apply': '#e8590c',
  'crash-during-snapshot': '#8c1d40',
  'slow-fsync': '#a8842c',
};
const LEGEND_ROW_H = 14;

const COLORS = { ok: '#2e9e44', fail: '#d0312d', unknown: '#f0a202' } as const;
const ROW_H = 8;
const LEFT = 60;
const TOP = 40;
const WIDTH = 1400;
const MAX_ROWS = 400;

function escapeXml(text: string): string {
  return text.replace(/[<>&"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;' })[c]!);
}

export function renderTimeline(bars: readonly TimelineBar[], faults: readonly FaultEvent[], totalMs: number): string {
  const clients = [...new Set(bars.map((b) => b.client))].sort((a, b) => a - b).slice(0, MAX_ROWS);
  const row = new Map(clients.map((c, i) => [c, i]));
  const span = Math.max(1, totalMs);
  const x = (ms: number): number => LEFT + ((WIDTH - LEFT - 10) * Math.min(Math.max(ms, 0), span)) / span;
  const height = TOP + clients.length * ROW_H + 40 + 2 * LEGEND_ROW_H + 6;
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" font-family="sans-serif" font-size="10">`);
  parts.push(`<rect width="100%" height="100%" fill="white"/>`);
  faults.forEach((f, i) => {
    if (f.skipped !== undefined) return;
    const x0 = x(f.startMs);
    const w = Math.max(2, x(f.endMs) - x0);
    parts.push(`<rect x="${x0.toFixed(1)}" y="${TOP - 4}" width="${w.toFixed(1)}" height="${clients.length * ROW_H + 8}" fill="${FAULT_COLORS[f.kind]}" fill-opacity="0.15"><title>${escapeXml(`${f.kind} ${f.detail}`)}</title></rect>`);
    parts.push(`<text x="${x0.toFixed(1)}" y="${12 + (i % 3) * 10}" fill="${FAULT_COLORS[f.kind]}">${escapeXml(f.kind)}</text>`);
  });
  for (const bar of bars) {
    const r = row.get(bar.client);
    if (r === undefined) continue;
    const x0 = x(bar.startMs);
    const w = Math.max(1, x(bar.endMs) - x0);
    parts.push(`<rect x="${x0.toFixed(1)}" y="${TOP + r * ROW_H}" width="${w.toFixed(1)}" height="${ROW_H - 2}" fill="${COLORS[bar.status]}"><title>${escapeXml(`c${bar.client} ${bar.label} ${bar.status}`)}</title></rect>`);
  }
  const axisY = TOP + clients.length * ROW_H + 15;
  for (let s = 0; s * 1000 <= span; s += Math.max(1, Math.ceil(span / 1000 / 20))) {
    parts.push(`<text x="${x(s * 1000).toFixed(1)}" y="${axisY}">${s}s</text>`);
  }
  parts.push(`<text x="4" y="${axisY + 15}">rows: clients (${clients.length}); green ok, red fail, orange unknown; shaded: faults, coloured by kind:</text>`);
  legendRow(parts, 'process / network', NETWORK_AND_PROCESS_FAULT_KINDS, axisY + 15 + LEGEND_ROW_H);
  legendRow(parts, 'failpoints (latchkey only)', FAILPOINT_FAULT_KINDS, axisY + 15 + 2 * LEGEND_ROW_H);
  parts.push('</svg>');
  return parts.join('\n');
}

/** One legend line: a caption, then a swatch and the name of each kind. */
function legendRow(parts: string[], caption: string, kinds: readonly FaultKind[], y: number): void {
  parts.push(`<text x="4" y="${y}">${escapeXml(caption)}:</text>`);
  let x = 150;
  for (const kind of kinds) {
    parts.push(`<rect x="${x}" y="${y - 9}" width="10" height="10" fill="${FAULT_COLORS[kind]}" fill-opacity="0.6"/>`);
    parts.push(`<text x="${x + 14}" y="${y}">${escapeXml(kind)}</text>`);
    x += 24 + kind.length * 6;
  }
}
