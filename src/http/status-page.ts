/**
 * The status page at `/`: one server-rendered HTML document with inline CSS and an inline SVG
 * chart, no script and nothing loaded from elsewhere. It reloads itself every 10 s. Figures
 * carry their raw value in `data-value` for tools; `/status.json` has the same data.
 */
import { renderChart } from './status-chart.js';
import type { StatusDoc, UpstreamStatus } from './status-data.js';
import { formatBytes } from '../util/format-bytes.js';
import { escapeHtml as e, formatDurationSec, formatPercent } from './status-format.js';

const CSS = `
body{font:14px/1.45 system-ui,sans-serif;margin:0;background:#f8fafc;color:#0f172a}
header{background:#0f172a;color:#f8fafc;padding:12px 24px;display:flex;gap:16px;align-items:baseline}
header h1{font-size:18px;margin:0}header span{color:#94a3b8}
main{max-width:980px;margin:0 auto;padding:16px 24px}
section{background:#fff;border:1px solid #e2e8f0;border-radius:8px;padding:12px 16px;margin:0 0 16px}
h2{font-size:15px;margin:0 0 8px}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(170px,1fr));gap:12px;margin-bottom:16px}
.card{background:#fff;border:1px solid #e2e8f0;border-radius:8px;padding:10px 14px}
.card .label{color:#64748b;font-size:12px}.card .value{font-size:22px;font-weight:600}
table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:4px 8px;border-bottom:1px solid #f1f5f9;vertical-align:top}
th{color:#64748b;font-weight:500;font-size:12px}
.bar{background:#e2e8f0;border-radius:4px;height:10px;min-width:160px;overflow:hidden}
.bar>div{background:#2563eb;height:100%}
.ok{color:#15803d}.warn{color:#b45309}.bad{color:#b91c1c}.muted{color:#64748b}
code{font-size:12px}`;

function card(id: string, label: string, text: string, value: number | null): string {
  return `<div class="card"><div class="label">${e(label)}</div><div class="value" id="${id}" data-value="${value ?? ''}">${e(text)}</div></div>`;
}

function bar(done: number, total: number): string {
  const pct = total > 0 ? Math.min(100, (done / total) * 100) : 0;
  return `<div class="bar" role="progressbar" aria-valuemin="0" aria-valuemax="${Math.max(0, total)}" aria-valuenow="${done}"><div style="width:${pct.toFixed(1)}%"></div></div>`;
}

function reachability(u: UpstreamStatus): string {
  const r = u.reachability;
  const cls = r.state === 'reachable' ? 'ok' : r.state === 'unreachable' ? 'bad' : 'muted';
  const detail = r.error ?? (r.status !== undefined ? `HTTP ${r.status}` : '');
  return `<span class="${cls}">${e(r.state)}</span>${detail ? ` <span class="muted">(${e(detail)})</span>` : ''}`;
}

function quota(u: UpstreamStatus): string {
  const q = u.quota;
  const creds = q.credentials
    .map((c) => {
      const left = c.remaining === null ? 'not seen yet' : `${c.remaining}${c.limit !== null ? ` of ${c.limit}` : ''} left`;
      const rest = c.restingUntil !== null ? ` <span class="warn">resting until ${e(c.restingUntil.slice(11, 19))} UTC</span>` : '';
      return `<div><code>${e(c.name)}</code>: <span class="remaining" data-credential="${e(c.name)}" data-value="${c.remaining ?? ''}">${e(left)}</span>${rest}</div>`;
    })
    .join('');
  const floor = q.floor > 0 ? `<div class="${q.belowFloor ? 'warn' : 'muted'}">floor ${q.floor}${q.belowFloor ? ': below, serving cached tags without revalidating' : ''}</div>` : '';
  return creds + floor;
}

function upstreams(doc: StatusDoc): string {
  const rows = doc.upstreams
    .map((u) => {
      const breaker = u.breaker === null ? '<span class="muted">–</span>' : `<span class="${u.breaker === 'closed' ? 'ok' : 'bad'}">${e(u.breaker)}</span>`;
      return `<tr data-upstream="${e(u.name)}"><td><code>${e(u.name)}</code></td><td>${reachability(u)}</td><td>${breaker}</td><td>${quota(u)}</td></tr>`;
    })
    .join('');
  return `<section id="upstreams"><h2>Upstreams</h2><table><thead><tr><th>registry</th><th>reachability</th><th>breaker</th><th>pull quota</th></tr></thead><tbody>${rows}</tbody></table></section>`;
}

function fills(doc: StatusDoc): string {
  if (doc.fills.length === 0) return '<section id="fills"><h2>Fills in progress</h2><p class="muted">none</p></section>';
  const rows = doc.fills
    .map((f) => {
      const size = f.size >= 0 ? formatBytes(f.size) : 'size unknown';
      return `<tr class="fill"><td><code>${e(f.digest.slice(0, 19))}…</code></td><td>${bar(f.written, f.size)}</td><td>${e(formatBytes(f.written))} / ${e(size)}</td></tr>`;
    })
    .join('');
  return `<section id="fills"><h2>Fills in progress</h2><table><tbody>${rows}</tbody></table></section>`;
}

function cacheSize(doc: StatusDoc): string {
  const c = doc.cache;
  const cap = c.maxSizeBytes > 0 ? `${bar(c.sizeBytes, c.maxSizeBytes)}<div>${e(formatBytes(c.sizeBytes))} of ${e(formatBytes(c.maxSizeBytes))}</div>` : `<div>${e(formatBytes(c.sizeBytes))} <span class="muted">(no size cap)</span></div>`;
  return `<section id="cache-size"><h2>Cache size</h2><div id="cache-bytes" data-value="${c.sizeBytes}">${cap}</div></section>`;
}

function topImages(doc: StatusDoc): string {
  if (doc.topImages.length === 0) return '<section id="top-images"><h2>Most pulled</h2><p class="muted">no pulls yet</p></section>';
  const rows = doc.topImages.map((t) => `<tr><td><code>${e(t.image)}</code></td><td data-value="${t.pulls}">${t.pulls}</td></tr>`).join('');
  return `<section id="top-images"><h2>Most pulled</h2><table><thead><tr><th>repository</th><th>manifest pulls</th></tr></thead><tbody>${rows}</tbody></table></section>`;
}

export function renderStatusPage(doc: StatusDoc): string {
  const c = doc.cache;
  return [
    '<!doctype html><html lang="en"><head><meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1"><meta http-equiv="refresh" content="10">',
    `<title>berth status</title><style>${CSS}</style></head><body>`,
    `<header><h1>berth</h1><span>version ${e(doc.version)}</span><span>up ${e(formatDurationSec(doc.uptimeSeconds))}</span><span>${e(doc.generatedAt.slice(0, 19).replace('T', ' '))} UTC</span></header><main>`,
    '<div class="cards">',
    card('hit-ratio', 'cache hit ratio', formatPercent(c.hitRatio), c.hitRatio),
    card('bytes-saved', 'bytes saved (served from cache)', formatBytes(c.bytesSaved), c.bytesSaved),
    card('pulls-avoided', 'upstream pulls avoided', String(c.pullsAvoided), c.pullsAvoided),
    card('upstream-pulls', 'upstream pulls made', String(c.upstreamPulls), c.upstreamPulls),
    '</div>',
    `<section id="history"><h2>Last hour</h2>${renderChart(doc.history)}<p class="muted">${c.hits} of ${c.lookups} cache lookups answered from the cache; ${e(formatBytes(c.bytesFromUpstream))} served while fetched upstream.</p></section>`,
    upstreams(doc),
    fills(doc),
    cacheSize(doc),
    topImages(doc),
    '<p class="muted">The same data as JSON: <a href="/status.json">/status.json</a>.</p>',
    '</main></body></html>',
  ].join('\n');
}
