/** Small formatting helpers for the server-rendered status page. */

/** 0.5 → "50.0 %"; no data → "–". */
export function formatPercent(r: number | null): string {
  return r === null ? '–' : `${(r * 100).toFixed(1)} %`;
}

/** 3725 → "1h 2m"; 42 → "42s". */
export function formatDurationSec(s: number): string {
  const d = Math.floor(s / 86_400);
  const h = Math.floor((s % 86_400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (d > 0) return `${d}d ${h}h`;
  if (h > 0) return `${h}h ${m}m`;
  if (m > 0) return `${m}m ${s % 60}s`;
  return `${s}s`;
}

const ESCAPES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);
}
