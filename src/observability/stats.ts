/**
 * What the cache does for its users, read from the same prom-client counters /metrics shows (so
 * the two always agree), plus a bounded ring of samples for a chart (one per interval, e.g. 10 s
 * for the last hour) and a bounded top-N of pulled repositories. In memory only.
 */
import type { Metrics, MetricsJson } from './metrics.js';
import { TopCounter, type Counted } from './top-counter.js';

export interface CacheTotals {
  /** Cache lookups of every kind (blob, manifest, tag, referrers). */
  readonly lookups: number;
  /** Lookups answered from the cache: `hit` and `stale`. */
  readonly hits: number;
  /** Body bytes clients got from the cache: what the upstream did not have to send. */
  readonly bytesSaved: number;
  /** Body bytes clients got while berth fetched them upstream. */
  readonly bytesFromUpstream: number;
  /** Manifest lookups answered without an upstream GET (`hit` or `coalesced`): pulls not counted upstream. */
  readonly pullsAvoided: number;
  /** Manifest GETs sent upstream (any answer). */
  readonly upstreamPulls: number;
  /** Bytes of committed content in the store. */
  readonly cacheBytes: number;
}

export interface Sample {
  /** Unix ms. */
  readonly t: number;
  readonly lookups: number;
  readonly hits: number;
  readonly bytesSaved: number;
}

export interface StatsOptions {
  readonly intervalMs: number;
  /** Samples kept (intervalMs × capacity = the chart's span). */
  readonly capacity: number;
  /** Repositories tracked for the most-pulled list. */
  readonly topCapacity: number;
  readonly now: () => number;
}

type Labels = Record<string, string | number>;

/** Read from the metrics view, so that with several workers the totals are every worker's. */
function sum(all: MetricsJson, name: string, where: (l: Labels) => boolean = () => true): number {
  let total = 0;
  for (const v of all.find((m) => m.name === name)?.values ?? []) if (where(v.labels as Labels)) total += v.value;
  return total;
}

export class Stats {
  private readonly ring: Sample[] = [];
  private readonly pulls: TopCounter;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly metrics: Metrics,
    private readonly opts: StatsOptions,
  ) {
    this.pulls = new TopCounter(opts.topCapacity);
  }

  /** Takes a sample now and every interval; the timer never keeps the process alive. */
  start(): void {
    if (this.timer) return;
    void this.sample();
    this.timer = setInterval(() => void this.sample(), this.opts.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  async totals(): Promise<CacheTotals> {
    const all = await this.metrics.view.json();
    const requests = 'berth_cache_requests_total';
    const lookups = sum(all, requests);
    const hits = sum(all, requests, (l) => l.result === 'hit' || l.result === 'stale');
    const bytesSaved = sum(all, 'berth_served_bytes_total', (l) => l.source === 'cache');
    const bytesFromUpstream = sum(all, 'berth_served_bytes_total', (l) => l.source === 'upstream');
    const pullsAvoided = sum(all, requests, (l) => l.kind === 'manifest' && (l.result === 'hit' || l.result === 'coalesced'));
    const upstreamPulls = sum(all, 'berth_upstream_requests_total', (l) => l.kind === 'manifest_get');
    const cacheBytes = sum(all, 'berth_cache_size_bytes');
    return { lookups, hits, bytesSaved, bytesFromUpstream, pullsAvoided, upstreamPulls, cacheBytes };
  }

  async sample(): Promise<Sample> {
    const t = await this.totals();
    const s: Sample = { t: this.opts.now(), lookups: t.lookups, hits: t.hits, bytesSaved: t.bytesSaved };
    this.ring.push(s);
    if (this.ring.length > this.opts.capacity) this.ring.shift();
    return s;
  }

  /** Samples oldest first. */
  history(): readonly Sample[] {
    return [...this.ring];
  }

  /** A client pulled a manifest of this repository (`upstream/repository`). */
  pulled(image: string): void {
    this.pulls.add(image);
  }

  topPulled(n: number): Counted[] {
    return this.pulls.top(n);
  }
}
