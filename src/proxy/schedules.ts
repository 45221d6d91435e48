/**
 * While serving: the configured prefetch list and the pins are fetched at start and then on
 * their intervals, in-process through the same fills as clients. One run at a time; close()
 * stops the timers and the run in progress.
 */
import type { Logger } from '../observability/logger.js';
import type { Platform } from '../oci/platform.js';
import type { PinRule, Pins } from '../store/pins.js';
import type { TagIndex } from '../store/tag-index.js';
import type { Router } from '../upstream/router.js';
import { imageTargets, planPrefetch, runPrefetch, type ImageSource, type PrefetchResult, type PrefetchTarget } from './prefetch.js';

export interface ScheduleSettings {
  readonly images: readonly string[];
  readonly platforms: readonly Platform[];
  /** 0: only at start. */
  readonly prefetchIntervalMs: number;
  /** 0: pins are protected but never refreshed. */
  readonly pinRefreshMs: number;
}

export interface ScheduleDeps {
  readonly source: ImageSource;
  readonly pins: Pins;
  readonly tags: TagIndex;
  /** Tags of a repository upstream (for glob pins), at most a page. */
  readonly listTags: (upstream: string, repository: string) => Promise<string[]>;
  readonly logger: Logger;
}

const MAX_TAGS_PER_PIN = 100;

/** Tags of a repository from its upstream's tags list (first page), for glob pins. */
export function upstreamTags(router: Router): ScheduleDeps['listTags'] {
  return async (upstream, repository) => {
    const got = await router.get(upstream)?.getJson(repository, 'tags/list?n=1000');
    if (got?.kind !== 'found') return [];
    const doc = JSON.parse(got.value.bytes.toString('utf8')) as { tags?: unknown };
    return Array.isArray(doc.tags) ? doc.tags.filter((t): t is string => typeof t === 'string') : [];
  };
}

export class Schedules {
  private readonly timers: NodeJS.Timeout[] = [];
  private chain: Promise<unknown> = Promise.resolve();
  private readonly abort = new AbortController();

  constructor(
    private readonly settings: ScheduleSettings,
    private readonly deps: ScheduleDeps,
  ) {}

  start(): void {
    const { images, prefetchIntervalMs, pinRefreshMs } = this.settings;
    if (images.length > 0) this.every(prefetchIntervalMs, () => this.prefetchImages());
    if (pinRefreshMs > 0 && !this.deps.pins.empty) this.every(pinRefreshMs, () => this.refreshPins());
  }

  /** Resolves when no run is in progress or queued. */
  async idle(): Promise<void> {
    let seen: Promise<unknown>;
    do {
      seen = this.chain;
      await seen;
    } while (seen !== this.chain);
  }

  async close(): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    this.abort.abort();
    await this.idle();
  }

  /** The configured prefetch list, now. */
  prefetchImages(): Promise<PrefetchResult | undefined> {
    return this.enqueue('scheduled prefetch finished', async () =>
      imageTargets(this.settings.images, (image, error) => this.deps.logger.warn({ image, error }, 'prefetch image skipped')),
    );
  }

  /** Every pinned image, now. */
  refreshPins(): Promise<PrefetchResult | undefined> {
    return this.enqueue('pin refresh finished', () => this.pinTargets());
  }

  private every(ms: number, run: () => Promise<unknown>): void {
    void run();
    if (ms > 0) {
      const t = setInterval(() => void run(), ms);
      t.unref();
      this.timers.push(t);
    }
  }

  private enqueue(done: string, targets: () => Promise<PrefetchTarget[]>): Promise<PrefetchResult | undefined> {
    const run = this.chain.then(async () => {
      if (this.abort.signal.aborted) return undefined;
      const signal = this.abort.signal;
      const plan = await planPrefetch(this.deps.source, await targets(), this.settings.platforms, signal);
      const result = await runPrefetch(this.deps.source, plan, { concurrency: 4, signal });
      for (const p of result.problems) this.deps.logger.warn({ image: p.label, what: p.what, reason: p.reason }, 'prefetch item failed');
      this.deps.logger.info({ images: plan.images, blobs: result.blobs, cached: result.alreadyCached, bytes: result.bytes, problems: result.problems.length }, done);
      return result;
    });
    const safe = run.catch((err: unknown) => {
      this.deps.logger.warn({ err }, 'scheduled prefetch failed');
      return undefined;
    });
    this.chain = safe;
    return safe;
  }

  private async pinTargets(): Promise<PrefetchTarget[]> {
    const seen = new Set<string>();
    const out: PrefetchTarget[] = [];
    const add = (upstream: string, repository: string, reference: string, label: string): void => {
      const k = `${upstream}/${repository}:${reference}`;
      if (seen.has(k)) return;
      seen.add(k);
      out.push({ name: repository, ns: upstream, reference, label });
    };
    const pins = this.deps.pins;
    for (const rule of pins.rules) {
      if (rule.digest !== undefined) add(rule.upstream, rule.repository, rule.digest.value, rule.text);
      else if (rule.literal && rule.tag !== undefined) add(rule.upstream, rule.repository, rule.tag, rule.text);
      else await this.expand(rule, add);
    }
    return out;
  }

  /** A glob pin: the matching tags already cached, and those upstream lists for a literal repository. */
  private async expand(rule: PinRule, add: (u: string, r: string, ref: string, label: string) => void): Promise<void> {
    let n = 0;
    for (const [k] of this.deps.tags.entries()) {
      if (n >= MAX_TAGS_PER_PIN) return;
      if (k.upstream === rule.upstream && this.deps.pins.isPinnedTag(k.upstream, k.repository, k.tag)) {
        add(k.upstream, k.repository, k.tag, rule.text);
        n++;
      }
    }
    if (/[*?[\]{}!]/.test(rule.repository)) return;
    const tags = await this.deps.listTags(rule.upstream, rule.repository).catch(() => [] as string[]);
    for (const tag of tags) {
      if (n >= MAX_TAGS_PER_PIN) return;
      if (this.deps.pins.isPinnedTag(rule.upstream, rule.repository, tag)) {
        add(rule.upstream, rule.repository, tag, rule.text);
        n++;
      }
    }
  }
}
