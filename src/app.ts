/** Composition root: builds every service once from the config and passes them in. */
import { rm, writeFile } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Agent } from 'undici';
import type { Config, UpstreamConfig } from './config/types.js';
import { createKoaApp } from './http/app.js';
import { createHttpServer } from './http/server.js';
import type { Logger } from './observability/logger.js';
import { createMetrics, type Metrics } from './observability/metrics.js';
import { PullThroughBlobs } from './proxy/blobs.js';
import { Fills } from './proxy/fills.js';
import { PullThroughManifests } from './proxy/manifests.js';
import { FsBlobStore } from './store/fs-blob-store.js';
import { ManifestStore } from './store/manifest-store.js';
import { FileTagIndex } from './store/tag-index.js';
import { RegistryClient } from './upstream/registry-client.js';
import { Router } from './upstream/router.js';

export interface Berth {
  readonly server: Server;
  readonly url: string;
  readonly metrics: Metrics;
  readonly fills: Fills;
  close(): Promise<void>;
}

export interface StartOptions {
  /** Tests run several daemons in one process: process metrics only once. */
  readonly processMetrics?: boolean;
}

export async function startBerth(config: Config, logger: Logger, opts: StartOptions = {}): Promise<Berth> {
  const metrics = createMetrics(opts.processMetrics ?? true);
  const store = new FsBlobStore(config.storage.path, config.storage.fsync, {
    committed: (size) => metrics.cacheSize.inc(size),
    removed: (size) => metrics.cacheSize.dec(size),
  });
  await store.init();
  const swept = await store.sweep();
  if (swept > 0) logger.warn({ files: swept }, 'removed leftover temp files');
  let cacheBytes = 0;
  for await (const b of store.list()) cacheBytes += b.size;
  metrics.cacheSize.set(cacheBytes);

  const tags = new FileTagIndex(store.layout.state);
  const report = await tags.load();
  if (report.damagedLines > 0) logger.warn({ damagedLines: report.damagedLines }, 'tag index had damaged lines; skipped them');

  const external = new Agent({ connect: { timeout: 10_000 }, headersTimeout: 30_000, bodyTimeout: 60_000 });
  const policies = new Map<string, UpstreamConfig>();
  const clients = config.upstreams.map((u) => {
    const effective: UpstreamConfig = config.offline ? { ...u, offline: true } : u;
    policies.set(u.name, effective);
    return { upstream: new RegistryClient({ config: effective, metrics, external, now: Date.now }), aliases: u.aliases };
  });
  const router = new Router(clients, config.defaultUpstream);

  const fillTimeout = Math.max(...config.upstreams.map((u) => u.timeouts.fillTotalMs));
  const fills = new Fills(store, { maxResumes: 3, totalTimeoutMs: fillTimeout }, {
    started: () => metrics.fillsInProgress.inc(),
    finished: (result) => {
      metrics.fillsInProgress.dec();
      metrics.fillResults.inc({ result });
    },
    bytes: (upstream, n) => metrics.upstreamBytes.inc({ upstream }, n),
    resumed: () => metrics.fillResumes.inc(),
  });
  const blobs = new PullThroughBlobs(store, fills, (result) => metrics.cacheRequests.inc({ kind: 'blob', result }));
  const manifests = new PullThroughManifests(new ManifestStore(store, store.layout), tags, (name) => policies.get(name)!, {
    cache: (kind, result) => metrics.cacheRequests.inc({ kind, result }),
    stale: (upstream, reason) => metrics.staleServed.inc({ upstream, reason }),
    storeError: (err) => {
      metrics.storageWriteErrors.inc();
      logger.warn({ err }, 'store write failed; serving uncached');
    },
  });

  const storeWritable = async (): Promise<boolean> => {
    const probe = join(store.layout.tmp, `.probe-${process.pid}`);
    try {
      await writeFile(probe, 'ok');
      await rm(probe, { force: true });
      return true;
    } catch {
      return false;
    }
  };

  const app = createKoaApp({ router, blobs, manifests, metrics, metricsEnabled: config.metrics.enabled, storeWritable }, logger);
  const server = createHttpServer(app);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.listen.port, config.listen.host, () => resolve());
  });
  const addr = server.address() as AddressInfo;
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  const url = `http://${host}:${addr.port}`;
  logger.info({ url, data: config.storage.path, upstreams: config.upstreams.map((u) => u.name) }, 'listening');

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const deadline = new Promise<void>((resolve) => setTimeout(resolve, config.shutdownGraceMs).unref());
      await Promise.race([closed, deadline]);
      server.closeAllConnections();
      await tags.close();
      await Promise.all(clients.map((c) => c.upstream.close()));
      await external.close();
    })();
    return closing;
  };
  return { server, url, metrics, fills, close };
}
