/** Composition root: builds every service once from the config and passes them in. */
import { Agent } from 'undici';
import { buildUpstreams } from './upstream/clients.js';
import type { Config } from './config/types.js';
import { createKoaApp } from './http/app.js';
import { setUpClientAccess } from './http/client-access.js';
import { clientAuth } from './http/client-auth.js';
import { startListeners } from './http/listeners.js';
import { startPeerServer } from './cluster/peer-server.js';
import { createMetricsApp } from './http/metrics-app.js';
import { dirWritable, readinessCheck } from './http/readiness.js';
import type { BerthServer } from './http/server.js';
import type { Logger } from './observability/logger.js';
import { createMetrics, type Metrics, type MetricsJson } from './observability/metrics.js';
import { PullThroughBlobs } from './proxy/blobs.js';
import { Fills } from './proxy/fill/fills.js';
import { Permits } from './proxy/fill/permits.js';
import { PullThroughManifests } from './proxy/manifests.js';
import { PullThroughReferrers } from './proxy/referrers.js';
import { FreeSpace } from './store/free-space.js';
import { ManifestStore } from './store/manifest-store.js';
import { layoutOf } from './store/paths.js';
import { parseDigest } from './oci/digest.js';
import { SizeCap } from './store/cap/size-cap.js';
import { LocalSource } from './proxy/prefetch-local.js';
import { Schedules, upstreamTags } from './proxy/schedules.js';
import { parsePlatform, type Platform } from './oci/platform.js';
import type { TagIndex } from './store/tag-index.js';
import { loadFileTags, loadLocalState, pinsOf } from './store/start-state.js';
import { openBlobStore } from './store/open-store.js';
import { AggregatorRegistry } from 'prom-client';
import type { WorkerLink } from './workers/worker-link.js';
import { UpstreamProbe } from './upstream/reachability.js';
import { setUpStatus } from './http/status-setup.js';
import { berthVersion } from './version.js';

export interface Berth {
  readonly server: BerthServer;
  readonly url: string;
  /** The separate metrics listener (`metrics.listen`), if any. */
  readonly metricsUrl?: string;
  readonly metrics: Metrics;
  readonly fills: Fills;
  /** Size cap: settles once no eviction pass is running (in the primary, with workers). */
  readonly cache: { settled(): Promise<void>; readonly inUse: { readonly size: number } };
  /** Scheduled prefetch and pin refresh. */
  readonly schedules: Schedules;
  /** Committed-blob streams the local store has open (its read budget's share count); undefined for object storage. */
  openReaders(): number | undefined;
  /** SIGHUP: re-reads the TLS certificate and the htpasswd file. */
  reload(): Promise<void>;
  close(): Promise<void>;
}

export interface StartOptions {
  /** Tests run several daemons in one process: process metrics only once. */
  readonly processMetrics?: boolean;
  /** A worker of several (`workers` > 1): the primary owns the single-writer state. */
  readonly link?: WorkerLink;
}

export async function startBerth(config: Config, logger: Logger, opts: StartOptions = {}): Promise<Berth> {
  const link = opts.link;
  const metrics = link ? sharedMetrics(createMetrics(opts.processMetrics ?? true), link) : createMetrics(opts.processMetrics ?? true);
  const external = new Agent({ connect: { timeout: 10_000 }, headersTimeout: 30_000, bodyTimeout: 60_000 });
  const { policies, clients, router } = buildUpstreams(config, metrics, logger, external);
  // Several nodes on one bucket: Redis holds the tag index, the fill leases and the bucket's
  // ledger (ioredis is loaded only then). Its callbacks reach services built below. Object
  // storage runs one process per node (main.ts), so a cluster never has a worker link.
  // The peer listener starts first: its address goes into this node's leases. It serves the fills made below.
  let fillsOf: Fills | undefined;
  const { peerListen, peerSecret } = config.cluster ?? {};
  const peerServer = peerListen && peerSecret ? await startPeerServer({ listen: peerListen, secret: peerSecret, running: (digest) => fillsOf?.find(digest) }) : undefined;
  const cluster = config.cluster
    ? await (await import('./cluster/open-cluster.js')).openCluster({
        config: config.cluster,
        stat: (digest) => store.stat(digest),
        policyOf: (name) => policies.get(name)!,
        events: { claimed: (result) => metrics.clusterFillClaims.inc({ result }), tagLookup: (result) => metrics.clusterTagLookups.inc({ result }) },
        ...(peerServer && peerSecret ? { peer: { address: peerServer.address, secret: peerSecret } } : {}),
      })
    : undefined;
  // One process: the size cap lives here, its order of use and eviction shared through Redis
  // in a cluster. A worker reports to the primary's instead.
  const local = link
    ? undefined
    : new SizeCap(layoutOf(config.storage.path).state, config.storage, {
        filling: (digest: string): boolean => fills.has(digest),
        protectedDigests: (): Promise<ReadonlySet<string>> => pins.protectedDigests(),
        remove: (digest): Promise<void> => manifestStore.remove(digest),
        evicted: () => metrics.evictions.inc(),
        blocked: (bytes, target) => logger.warn({ bytes, target }, 'eviction cannot reach the low watermark: the rest is pinned or in use'),
        ...(cluster ? { ledger: cluster.ledger } : {}),
      });
  const cap = link?.ledger ?? local!;
  // Other nodes fill and evict too: with a cluster the bucket's size is the shared ledger's.
  const countsSize = local !== undefined && !cluster;
  const store = await openBlobStore(config.storage, {
    remoteError: (op, err) => {
      metrics.objectStorageErrors.inc({ op });
      logger.warn({ op, err: err instanceof Error ? err.message : String(err) }, 'object storage request failed');
    },
    localCache: (result) => metrics.localCacheRequests.inc({ result }),
    committed: (size, digest) => {
      if (countsSize) metrics.cacheSize.inc(size);
      cap.committed(digest, size);
    },
    removed: (size, digest) => {
      if (countsSize) metrics.cacheSize.dec(size);
      cap.removed(digest, size);
    },
  });
  await store.init();
  // Temp files and the recency record belong to the primary when there are workers.
  if (local) await loadLocalState(store, local, metrics, logger);
  const bucketSize = cluster ? setInterval(() => void cluster.ledger.bytes().then((b) => b !== undefined && metrics.cacheSize.set(b)), 2_000) : undefined;
  bucketSize?.unref();
  const capped = cap.wrap(store);

  if (link) await link.tags.load();
  const tags: TagIndex = link?.tags ?? cluster?.tags ?? (await loadFileTags(store.layout.state, logger));


  // Every failed store write is counted and logged the same way; the content is served uncached.
  const storeWriteFailed = (err: unknown): void => {
    metrics.storageWriteErrors.inc();
    logger.warn({ err: err instanceof Error ? err.message : err }, 'store write failed; serving uncached');
  };
  const fetchPolicies = new Map(config.upstreams.map((u) => [u.name, { permits: new Permits(u.connections), ...u.parallelFetch }]));
  const fillClaim = link ? link.claims.claimer('blob', (spool) => capped.follow(spool)) : cluster?.claim;
  const fillTimeout = Math.max(...config.upstreams.map((u) => u.timeouts.fillTotalMs));
  const fills = new Fills(capped, { maxResumes: 3, totalTimeoutMs: fillTimeout, ...(fillClaim ? { claim: fillClaim } : {}) }, {
    started: () => metrics.fillsInProgress.inc(),
    finished: (result) => {
      metrics.fillsInProgress.dec();
      metrics.fillResults.inc({ result });
    },
    bytes: (upstream, n) => metrics.upstreamBytes.inc({ upstream }, n),
    connections: (upstream, n) => metrics.fillConnections.observe({ upstream }, n),
    resumed: () => metrics.fillResumes.inc(),
    storeError: storeWriteFailed,
  }, (name) => fetchPolicies.get(name)!, new FreeSpace(store.layout.tmp));
  fillsOf = fills;
  const blobs = new PullThroughBlobs(capped, fills, (result) => metrics.cacheRequests.inc({ kind: 'blob', result }));
  const manifestStore = new ManifestStore(capped, store.layout, undefined, (digest) => cap.used(digest));
  const manifests = new PullThroughManifests(manifestStore, tags, (name) => policies.get(name)!, {
    cache: (kind, result) => metrics.cacheRequests.inc({ kind, result }),
    stale: (upstream, reason) => metrics.staleServed.inc({ upstream, reason }),
    storeError: storeWriteFailed,
  }, Date.now, link ? link.claims.claimer('manifest') : cluster?.claim);
  const referrers = new PullThroughReferrers(manifests, manifestStore, tags, (name) => policies.get(name)!, {
    cache: (result) => metrics.cacheRequests.inc({ kind: 'referrers', result }),
    stale: (upstream, reason) => metrics.staleServed.inc({ upstream, reason }),
    storeError: storeWriteFailed,
  });

  const pins = pinsOf(config, tags, store);
  link?.attach({
    registry: metrics.registry,
    forget: (d) => {
      const digest = parseDigest(d);
      if (digest) manifestStore.forget(digest);
    },
  });
  const schedules = new Schedules(
    {
      images: config.prefetch.images,
      platforms: config.prefetch.platforms.map(parsePlatform).filter((p): p is Platform => p !== undefined),
      prefetchIntervalMs: config.prefetch.intervalMs,
      pinRefreshMs: config.pinRefreshMs,
    },
    {
      source: new LocalSource({ router, manifests, blobs, touch: (digest) => cap.used(digest) }),
      pins,
      tags,
      listTags: upstreamTags(router),
      logger,
    },
  );

  const probes = config.upstreams.map((u) => {
    const probe = new UpstreamProbe({ url: u.url, offline: config.offline || u.offline, dispatcher: external, ttlMs: 15_000, timeoutMs: 3_000, now: Date.now });
    return { name: u.name, state: (waitMs: number) => probe.state(waitMs) };
  });
  const readiness = readinessCheck({ storeWritable: () => dirWritable(store.layout.tmp), upstreams: probes, waitMs: 1_000 });

  const clientAccess = await setUpClientAccess(config, logger, 1_000);
  const access = clientAccess.deps;

  const version = berthVersion();
  const status = config.status.enabled
    ? setUpStatus({
        config, metrics, fills, version, realm: access.realm, now: Date.now,
        upstreams: clients.map((c, i) => ({ name: c.upstream.name, quotaFloor: config.upstreams[i]!.quotaFloor, breaker: c.breaker, pool: c.pool, probe: probes[i]!.state })),
      })
    : undefined;
  const metricsListen = config.metrics.enabled ? config.metrics.listen : undefined;
  const app = createKoaApp(
    { router, blobs, manifests, referrers, metrics, metricsEnabled: config.metrics.enabled && metricsListen === undefined, readiness, access, version, ...(status ? { status: status.route } : {}), ...(link ? { worker: link.index } : {}) },
    logger,
  );
  const listeners = await startListeners({
    app,
    listen: config.listen,
    headersTimeoutMs: config.headersTimeoutMs,
    ...(config.tls ? { tls: config.tls } : {}),
    ...(metricsListen ? { metrics: { app: createMetricsApp({ metrics, guard: clientAuth(access), version }, logger), listen: metricsListen } } : {}),
    registry: metrics,
    logger,
    watchIntervalMs: 1_000,
  });
  const { server, url, metricsUrl } = listeners;
  logger.info({ url, metricsUrl, ...(peerServer ? { peerUrl: `http://${peerServer.address}` } : {}), tls: config.tls !== undefined, clientAuth: config.auth !== undefined, data: config.storage.path, upstreams: config.upstreams.map((u) => u.name) }, 'listening');
  // Prefetch and pin refresh run once per node: in the only process, or in worker 0.
  if (!link || link.index === 0) schedules.start();
  status?.stats.start();
  const reload = async (): Promise<void> => {
    await Promise.all([listeners.reloadTls(), clientAccess.reload()]);
  };

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      clientAccess.close();
      status?.stats.stop();
      clearInterval(bucketSize);
      await schedules.close();
      await listeners.close(config.shutdownGraceMs);
      await fills.close(config.shutdownGraceMs);
      await peerServer?.close();
      await cap.close();
      await tags.close();
      await cluster?.close();
      link?.close();
      await store.close?.();
      await Promise.all(clients.map((c) => c.upstream.close()));
      await external.close();
    })();
    return closing;
  };
  const openReaders = (): number | undefined => store.readers;
  return { server, url, ...(metricsUrl !== undefined ? { metricsUrl } : {}), metrics, fills, cache: cap, schedules, openReaders, reload, close };
}

/** A worker's metrics view: every process's metrics, aggregated by the primary. */
function sharedMetrics(own: Metrics, link: WorkerLink): Metrics {
  const json = (): Promise<MetricsJson> => link.metrics();
  return { ...own, view: { json, text: async () => AggregatorRegistry.aggregate([await json()]).metrics() } };
}

