/**
 * The status document behind `/` and `/status.json`: what the cache saves, how each upstream is
 * doing (reachability, breaker, quota per credential), fills in progress, cache size against the
 * cap, the most pulled repositories, and the samples of the last hour. Built on request from
 * the services app.ts passes in; it holds no state of its own.
 */
import type { FillStatus } from '../proxy/fill/fill.js';
import type { Stats } from '../observability/stats.js';
import type { BreakerState } from '../upstream/breaker.js';
import type { MemberQuota } from '../upstream/credential-pool.js';
import type { Reachability } from '../upstream/reachability.js';

export interface UpstreamStatusSource {
  readonly name: string;
  readonly quotaFloor: number;
  reachability(waitMs: number): Promise<Reachability>;
  breaker(): BreakerState | undefined;
  quota(): { readonly belowFloor: boolean; readonly bestRemaining: number | undefined; readonly credentials: readonly MemberQuota[] };
}

export interface StatusSources {
  readonly version: string;
  readonly startedAt: number;
  readonly now: () => number;
  readonly stats: Stats;
  /** storage.maxSize; 0 = unbounded. */
  readonly maxSizeBytes: number;
  readonly fills: () => readonly FillStatus[];
  readonly upstreams: readonly UpstreamStatusSource[];
  /** How long a page waits for a fresh reachability probe. */
  readonly probeWaitMs: number;
  /** Entries of the most-pulled list. */
  readonly topN: number;
}

export interface CredentialStatus {
  readonly name: string;
  readonly remaining: number | null;
  readonly limit: number | null;
  readonly windowSeconds: number | null;
  readonly restingUntil: string | null;
}

export interface UpstreamStatus {
  readonly name: string;
  readonly reachability: Reachability;
  readonly breaker: BreakerState | null;
  readonly quota: { readonly floor: number; readonly belowFloor: boolean; readonly bestRemaining: number | null; readonly credentials: readonly CredentialStatus[] };
}

export interface HistoryPoint {
  readonly t: string;
  readonly hitRatio: number | null;
  readonly bytesSaved: number;
}

export interface StatusDoc {
  readonly version: string;
  readonly generatedAt: string;
  readonly uptimeSeconds: number;
  readonly cache: {
    readonly hitRatio: number | null;
    readonly hits: number;
    readonly lookups: number;
    readonly bytesSaved: number;
    readonly bytesFromUpstream: number;
    readonly pullsAvoided: number;
    readonly upstreamPulls: number;
    readonly sizeBytes: number;
    readonly maxSizeBytes: number;
  };
  readonly upstreams: readonly UpstreamStatus[];
  readonly fills: readonly FillStatus[];
  readonly topImages: ReadonlyArray<{ readonly image: string; readonly pulls: number }>;
  readonly history: readonly HistoryPoint[];
}

const ratio = (hits: number, lookups: number): number | null => (lookups > 0 ? hits / lookups : null);

function credentialStatus(q: MemberQuota): CredentialStatus {
  return {
    name: q.name,
    remaining: q.remaining ?? null,
    limit: q.limit ?? null,
    windowSeconds: q.windowSeconds ?? null,
    restingUntil: q.restingUntil !== undefined ? new Date(q.restingUntil).toISOString() : null,
  };
}

async function upstreamStatus(u: UpstreamStatusSource, waitMs: number): Promise<UpstreamStatus> {
  const q = u.quota();
  return {
    name: u.name,
    reachability: await u.reachability(waitMs),
    breaker: u.breaker() ?? null,
    quota: { floor: u.quotaFloor, belowFloor: q.belowFloor, bestRemaining: q.bestRemaining ?? null, credentials: q.credentials.map(credentialStatus) },
  };
}

export async function buildStatus(s: StatusSources): Promise<StatusDoc> {
  const now = s.now();
  const [totals, upstreams] = await Promise.all([s.stats.totals(), Promise.all(s.upstreams.map((u) => upstreamStatus(u, s.probeWaitMs)))]);
  // The chart ends with the totals of this very moment, so it is never empty.
  const samples = [...s.stats.history(), { t: now, lookups: totals.lookups, hits: totals.hits, bytesSaved: totals.bytesSaved }];
  return {
    version: s.version,
    generatedAt: new Date(now).toISOString(),
    uptimeSeconds: Math.round((now - s.startedAt) / 1000),
    cache: {
      hitRatio: ratio(totals.hits, totals.lookups),
      hits: totals.hits,
      lookups: totals.lookups,
      bytesSaved: totals.bytesSaved,
      bytesFromUpstream: totals.bytesFromUpstream,
      pullsAvoided: totals.pullsAvoided,
      upstreamPulls: totals.upstreamPulls,
      sizeBytes: totals.cacheBytes,
      maxSizeBytes: s.maxSizeBytes,
    },
    upstreams,
    fills: s.fills().map((f) => ({ digest: f.digest, written: f.written, size: f.size })),
    topImages: s.stats.topPulled(s.topN).map((c) => ({ image: c.key, pulls: c.count })),
    history: samples.map((p) => ({ t: new Date(p.t).toISOString(), hitRatio: ratio(p.hits, p.lookups), bytesSaved: p.bytesSaved })),
  };
}
