/**
 * What the cache does for its users, read from the same prom-client counters /metrics shows (so
 * the two always agree), plus a bounded ring of samples for a chart (one per interval, e.g. 10 s
 * for the last hour) and a bounded top-N of pulled repositories. In memory only.
 */
import type { Counter, Gauge } from 'prom-client';
import type { Metrics } from './metrics.js';
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

async function sum(metric: Counter<string> | Gauge<string>, where: (l: Labels) => boolean = () => true): Promise<number> {
  const data = await metric.get();
  let total = 0;
  for (const v of data.values) if (where(v.labels as Labels)) total += v.value;
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
    const m = this.metrics;
    const [lookups, hits, bytesSaved, bytesFromUpstream, pullsAvoided, upstreamPulls, cacheBytes] = await Promise.all([
      sum(m.cacheRequests),
      sum(m.cacheRequests, (l) => l.result === 'hit' || l.result === 'stale'),
      sum(m.servedBytes, (l) => l.source === 'cache'),
      sum(m.servedBytes, (l) => l.source === 'upstream'),
      sum(m.cacheRequests, (l) => l.kind === 'manifest' && (l.result === 'hit' || l.result === 'coalesced')),
      sum(m.upstreamRequests, (l) => l.kind === 'manifest_get'),
      sum(m.cacheSize),
    ]);
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
