/**
 * The state a node's workers share, owned by the primary: the tag index writer, recency and
 * eviction (the size cap), pins, claims, and what each worker holds (readers' leases and
 * reservations), so a worker's death releases exactly what it held.
 */
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { AggregatorRegistry } from 'prom-client';
import type { Config } from '../config/types.js';
import type { Logger } from '../observability/logger.js';
import { createMetrics, type MetricsJson } from '../observability/metrics.js';
import { parseDigest } from '../oci/digest.js';
import { FsBlobStore } from '../store/fs-blob-store.js';
import type { Release } from '../store/cap/in-use.js';
import { ManifestStore } from '../store/manifest-store.js';
import { SizeCap } from '../store/cap/size-cap.js';
import { loadFileTags, loadLocalState, pinsOf } from '../store/start-state.js';
import { ClaimHub } from './claim-hub.js';
import type { FillUpdate, PrimaryApi, TagChange } from './protocol.js';
import { TagHub } from './tag-hub.js';

export interface WorkerPeers {
  /** A followed fill's progress, to one worker. */
  update(worker: number, update: FillUpdate): void;
  /** Every live worker's metrics. */
  metrics(): Promise<MetricsJson[]>;
  broadcast(change: TagChange, from: number): void;
  forget(digest: string): void;
}

interface Held {
  readonly holds: Map<string, Release[]>;
  readonly reservations: Map<number, Release>;
}

export class PrimaryState {
  private readonly held = new Map<number, Held>();
  private nextReservation = 1;

  private constructor(
    private readonly metrics: ReturnType<typeof createMetrics>,
    private readonly cap: SizeCap,
    private readonly claims: ClaimHub,
    private readonly tags: TagHub,
    private readonly closeTags: () => Promise<void>,
    private readonly peers: WorkerPeers,
  ) {}

  static async open(config: Config, logger: Logger, peers: WorkerPeers): Promise<PrimaryState> {
    const metrics = createMetrics(true);
    const store: FsBlobStore = new FsBlobStore(config.storage.path, config.storage.fsync, {
      committed: (size, digest) => {
        metrics.cacheSize.inc(size);
        cap.committed(digest, size);
      },
      removed: (size, digest) => {
        metrics.cacheSize.dec(size);
        cap.removed(digest);
      },
    });
    await store.init();
    const index = await loadFileTags(store.layout.state, logger);
    const pins = pinsOf(config, index, store);
    const manifests = new ManifestStore(store, store.layout);
    const claims = new ClaimHub({
      stat: async (d) => {
        const digest = parseDigest(d);
        return digest ? (await store.stat(digest))?.size : undefined;
      },
      // A spool file is named after the first 16 hex digits of its digest.
      discardTemp: async (d) => {
        const prefix = `${d.slice(d.indexOf(':') + 1, d.indexOf(':') + 17)}-`;
        const names = await readdir(store.layout.tmp).catch(() => [] as string[]);
        await Promise.all(names.filter((n) => n.startsWith(prefix)).map((n) => rm(join(store.layout.tmp, n), { force: true })));
      },
      update: (w, u) => peers.update(w, u),
    });
    const cap: SizeCap = new SizeCap(store.layout.state, config.storage, {
      filling: (d) => claims.has(d),
      protectedDigests: () => pins.protectedDigests(),
      remove: async (digest) => {
        await manifests.remove(digest);
        peers.forget(digest.value);
      },
      evicted: () => metrics.evictions.inc(),
      blocked: (bytes, target) => logger.warn({ bytes, target }, 'eviction cannot reach the low watermark: the rest is pinned or in use'),
    });
    await loadLocalState(store, cap, metrics, logger);
    const ttl = new Map(config.upstreams.map((u) => [u.name, u.tagTtlMs]));
    const tags = new TagHub(index, (c, from) => peers.broadcast(c, from), { ttlOf: (u) => ttl.get(u) ?? 0, resolveMs: 10_000, now: Date.now });
    return new PrimaryState(metrics, cap, claims, tags, () => index.close(), peers);
  }

  /** The API one worker talks to. */
  api(worker: number): PrimaryApi {
    const held: Held = { holds: new Map(), reservations: new Map() };
    this.held.set(worker, held);
    return {
      claim: ({ kind, digest }) => this.claims.claim(worker, kind, digest),
      release: ({ kind, digest, committed }) => void this.claims.release(worker, kind, digest, committed),
      publish: ({ digest, spool, size }) => this.claims.publish(worker, digest, spool, size),
      progress: (u) => this.claims.progress(worker, u),
      tagLookup: (key) => this.tags.lookup(worker, key),
      tagSnapshot: () => this.tags.snapshot(),
      tagChange: (c) => this.tags.change(worker, c),
      reserve: async ({ bytes }) => {
        const id = this.nextReservation++;
        held.reservations.set(id, await this.cap.evictor.reserve(bytes));
        return id;
      },
      unreserve: ({ id }) => {
        held.reservations.get(id)?.();
        held.reservations.delete(id);
      },
      hold: ({ digest }) => {
        const list = held.holds.get(digest) ?? [];
        list.push(this.cap.inUse.hold(digest));
        held.holds.set(digest, list);
      },
      unhold: ({ digest }) => {
        const list = held.holds.get(digest);
        list?.pop()?.();
        if (list?.length === 0) held.holds.delete(digest);
      },
      used: ({ digest }) => this.cap.used(digest),
      committed: ({ digest, size }) => {
        this.metrics.cacheSize.inc(size);
        this.cap.committed(digest, size);
      },
      removed: ({ digest, size }) => {
        this.metrics.cacheSize.dec(size);
        this.cap.removed(digest);
      },
      metrics: () => this.allMetrics(),
    };
  }

  /** A worker exited: what it held is released, what it was fetching passes on. */
  async workerDied(worker: number): Promise<void> {
    const held = this.held.get(worker);
    this.held.delete(worker);
    for (const list of held?.holds.values() ?? []) for (const release of list) release();
    for (const release of held?.reservations.values() ?? []) release();
    this.tags.workerDied(worker);
    await this.claims.workerDied(worker);
  }

  async close(): Promise<void> {
    this.tags.close();
    await this.cap.close();
    await this.closeTags();
  }

  private async allMetrics(): Promise<MetricsJson> {
    const own = (await this.metrics.registry.getMetricsAsJSON()) as MetricsJson;
    const all = [own, ...(await this.peers.metrics())];
    return (await AggregatorRegistry.aggregate(all).getMetricsAsJSON()) as MetricsJson;
  }
}
