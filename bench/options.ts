/** Benchmark knobs: the full run (500 MiB image) or the quick smoke variant (BENCH_QUICK=1). */
const MiB = 1024 * 1024;

export interface BenchOptions {
  quick: boolean;
  /** Upstream bandwidth cap in bytes/s for the counting proxies; undefined = uncapped. */
  upstreamBytesPerSec: number | undefined;
  upstreamMbps: number | undefined;
  /** Layer sizes of the large image (6 layers). */
  layerSizes: number[];
  /** Sequential full GETs of the biggest layer, per server. */
  blobGets: number;
  /** Tag HEAD requests per server, and the load's concurrency. */
  headRequests: number;
  headConcurrency: number;
  /** Upper bound on the HEAD load's duration, seconds. */
  headMaxSeconds: number;
  /** Single cold pulls per mirror (each on a fresh cache) and warm pulls after them. */
  coldRepeats: number;
  warmRepeats: number;
  /** Concurrent cold pulls to run (fresh caches each). */
  concurrency: number[];
  /** Deadline of one pull (all its blobs), ms. */
  pullTimeoutMs: number;
  /** Deadline of the whole run, ms: past it everything is torn down. */
  runDeadlineMs: number;
  /** Warm data plane: rounds per server (single stream, parallel), many-client rounds and clients. */
  warmRounds: number;
  manyRounds: number;
  manyClients: number;
  /** BENCH_ONLY=warm: only the warm data-plane cases (with --workers 1 and the default); =ranged: only the capped-upstream cold pulls. */
  only: 'warm' | 'ranged' | undefined;
}

export function positive(name: string): number | undefined {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return undefined;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${name} must be a positive number, got ${raw}`);
  return n;
}

export function benchOptions(): BenchOptions {
  const quick = process.env.BENCH_QUICK === '1' || process.env.BENCH_QUICK === 'true';
  const mbps = positive('BENCH_UPSTREAM_MBPS');
  // MB/s (decimal megabytes per second), the unit the results are printed in.
  const upstreamBytesPerSec = mbps === undefined ? undefined : Math.round(mbps * 1_000_000);
  const layerSizes = quick ? [24, 14, 10, 6, 4, 2].map((m) => m * MiB) : [200, 120, 80, 50, 30, 20].map((m) => m * MiB);
  return {
    quick,
    upstreamBytesPerSec,
    upstreamMbps: mbps,
    layerSizes,
    blobGets: quick ? 3 : 5,
    headRequests: quick ? 3_000 : 20_000,
    headConcurrency: 32,
    headMaxSeconds: quick ? 15 : 60,
    coldRepeats: quick ? 1 : 3,
    warmRepeats: quick ? 2 : 3,
    concurrency: [8, 16],
    pullTimeoutMs: quick ? 60_000 : 180_000,
    runDeadlineMs: quick ? 6 * 60_000 : 25 * 60_000,
    warmRounds: 5,
    manyRounds: quick ? 1 : 3,
    manyClients: 200,
    only: process.env.BENCH_ONLY === 'warm' || process.env.BENCH_ONLY === 'ranged' ? process.env.BENCH_ONLY : undefined,
  };
}

export const MIB = MiB;
