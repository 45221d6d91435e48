/** Docker Hub's `ratelimit-*` headers: `100;w=21600`. */

export interface RateLimit {
  readonly limit?: number;
  readonly remaining?: number;
  readonly windowSec?: number;
  readonly source?: string;
}

function leadingNumber(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const m = /^\s*(\d+)/.exec(v);
  return m ? Number(m[1]) : undefined;
}

function windowOf(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const m = /w=(\d+)/.exec(v);
  return m ? Number(m[1]) : undefined;
}

export function parseRateLimit(get: (name: string) => string | undefined): RateLimit | undefined {
  const limitH = get('ratelimit-limit');
  const remainingH = get('ratelimit-remaining');
  if (limitH === undefined && remainingH === undefined) return undefined;
  const out: { limit?: number; remaining?: number; windowSec?: number; source?: string } = {};
  const limit = leadingNumber(limitH);
  const remaining = leadingNumber(remainingH);
  const w = windowOf(remainingH) ?? windowOf(limitH);
  const source = get('docker-ratelimit-source');
  if (limit !== undefined) out.limit = limit;
  if (remaining !== undefined) out.remaining = remaining;
  if (w !== undefined) out.windowSec = w;
  if (source !== undefined) out.source = source;
  return out;
}

/** `Retry-After` as milliseconds from now: delta-seconds or an HTTP date. */
export function retryAfterMs(value: string | undefined, now: number): number | undefined {
  if (value === undefined) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const t = Date.parse(value);
  return Number.isNaN(t) ? undefined : Math.max(0, t - now);
}
