/**
 * The status page's chart as inline SVG (no script): the cache hit ratio (left axis, 0–100 %)
 * and the bytes saved so far (right axis) over the samples of the last hour.
 */
import type { HistoryPoint } from './status-data.js';
import { formatBytes } from '../util/format-bytes.js';
import { escapeHtml } from './status-format.js';

const W = 640;
const H = 200;
const LEFT = 56;
const RIGHT = W - 72;
const TOP = 30;
const BOTTOM = H - 30;
const HIT_COLOR = '#2563eb';
const SAVED_COLOR = '#16a34a';

const clock = (iso: string): string => iso.slice(11, 19);

/** Polyline points; a gap (null) starts a new line. */
function lines(points: ReadonlyArray<{ x: number; y: number | null }>): string[][] {
  const out: string[][] = [];
  let current: string[] = [];
  for (const p of points) {
    if (p.y === null) {
      if (current.length > 0) out.push(current);
      current = [];
      continue;
    }
    current.push(`${p.x.toFixed(1)},${p.y.toFixed(1)}`);
  }
  if (current.length > 0) out.push(current);
  return out;
}

function series(points: ReadonlyArray<{ x: number; y: number | null }>, color: string, name: string): string {
  const parts = lines(points).map((l) =>
    l.length === 1
      ? `<circle cx="${l[0]!.split(',')[0]}" cy="${l[0]!.split(',')[1]}" r="3" fill="${color}"/>`
      : `<polyline fill="none" stroke="${color}" stroke-width="2" points="${l.join(' ')}"/>`,
  );
  const last = [...points].reverse().find((p) => p.y !== null);
  if (last && last.y !== null) parts.push(`<circle cx="${last.x.toFixed(1)}" cy="${last.y.toFixed(1)}" r="3" fill="${color}"/>`);
  return `<g class="series" data-series="${name}">${parts.join('')}</g>`;
}

export function renderChart(history: readonly HistoryPoint[]): string {
  const times = history.map((p) => Date.parse(p.t));
  const t0 = Math.min(...times);
  const t1 = Math.max(...times);
  const x = (t: number): number => (t1 > t0 ? LEFT + ((t - t0) / (t1 - t0)) * (RIGHT - LEFT) : RIGHT);
  const maxSaved = Math.max(1, ...history.map((p) => p.bytesSaved));
  const y = (frac: number): number => BOTTOM - frac * (BOTTOM - TOP);
  const hit = history.map((p, i) => ({ x: x(times[i]!), y: p.hitRatio === null ? null : y(p.hitRatio) }));
  const saved = history.map((p, i) => ({ x: x(times[i]!), y: y(p.bytesSaved / maxSaved) }));
  const grid = [0, 0.5, 1]
    .map((f) => `<line x1="${LEFT}" x2="${RIGHT}" y1="${y(f)}" y2="${y(f)}" stroke="#e5e7eb"/><text x="${LEFT - 6}" y="${y(f) + 4}" text-anchor="end" fill="${HIT_COLOR}">${f * 100}%</text>`)
    .join('');
  const first = history[0]?.t ?? new Date().toISOString();
  const last = history[history.length - 1]?.t ?? first;
  return [
    `<svg class="chart" viewBox="0 0 ${W} ${H}" width="100%" role="img" aria-labelledby="chart-title" xmlns="http://www.w3.org/2000/svg" font-family="sans-serif" font-size="11">`,
    '<title id="chart-title">Cache hit ratio and bytes saved over the last hour</title>',
    grid,
    `<text x="${RIGHT + 6}" y="${y(1) + 4}" fill="${SAVED_COLOR}">${escapeHtml(formatBytes(maxSaved))}</text>`,
    `<text x="${RIGHT + 6}" y="${y(0) + 4}" fill="${SAVED_COLOR}">0 B</text>`,
    `<text x="${LEFT}" y="${H - 10}" fill="#6b7280">${escapeHtml(clock(first))} UTC</text>`,
    `<text x="${RIGHT}" y="${H - 10}" text-anchor="end" fill="#6b7280">${escapeHtml(clock(last))} UTC</text>`,
    series(saved, SAVED_COLOR, 'bytes-saved'),
    series(hit, HIT_COLOR, 'hit-ratio'),
    `<g transform="translate(${RIGHT - 190},2)"><rect width="10" height="3" y="4" fill="${HIT_COLOR}"/><text x="14" y="9">hit ratio</text>`,
    `<rect x="80" width="10" height="3" y="4" fill="${SAVED_COLOR}"/><text x="94" y="9">bytes saved</text></g>`,
    '</svg>',
  ].join('');
}
