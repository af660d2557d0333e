import type { FaultEvent } from '../faults/types';
import type { TimelineBar } from '../runner/recorder';

/**
 * timeline.svg: one row per client, each operation a bar from its start to its end,
 * green ok / red fail / orange unknown; faults as shaded vertical bands labelled on top.
 */

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
  const height = TOP + clients.length * ROW_H + 40;
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" font-family="sans-serif" font-size="10">`);
  parts.push(`<rect width="100%" height="100%" fill="white"/>`);
  faults.forEach((f, i) => {
    if (f.skipped !== undefined) return;
    const x0 = x(f.startMs);
    const w = Math.max(2, x(f.endMs) - x0);
    parts.push(`<rect x="${x0.toFixed(1)}" y="${TOP - 4}" width="${w.toFixed(1)}" height="${clients.length * ROW_H + 8}" fill="#7a5cff" fill-opacity="0.15"><title>${escapeXml(`${f.kind} ${f.detail}`)}</title></rect>`);
    parts.push(`<text x="${x0.toFixed(1)}" y="${12 + (i % 3) * 10}" fill="#5a3cdf">${escapeXml(f.kind)}</text>`);
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
  parts.push(`<text x="4" y="${axisY + 15}">rows: clients (${clients.length}); green ok, red fail, orange unknown; shaded: faults</text>`);
  parts.push('</svg>');
  return parts.join('\n');
}
