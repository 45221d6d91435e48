/**
 * One client at a time: the direct baseline, then per mirror cold pulls (a fresh cache each),
 * warm pulls, and the warm single-blob and tag-HEAD measurements on the last, warm mirror.
 */
import { join } from 'node:path';
import { blobThroughput, type BlobClient } from './blob-get.js';
import { attempt, progress, proxyOf, startMirror, type Ctx, type Mirror, type MirrorKind } from './context.js';
import { headLoad } from './head-load.js';
import { startNginx } from './nginx.js';
import { withCpu } from './procstat.js';
import { pullsOk } from './pulls.js';
import { biggestLayer, pullTarget } from './setup.js';
import { blobFetchStats } from './upstream-counts.js';

export const BLOB_CLIENT: BlobClient = process.env.BENCH_BLOB_CLIENT === 'undici' ? 'undici' : 'curl';

/** Pulls straight from the upstream; then, for reference, through berth's counting proxy. */
export async function directBaseline(ctx: Ctx): Promise<void> {
  const { stage, opts, results } = ctx;
  await attempt(ctx, 'direct', async () => {
    for (let i = 0; i < opts.coldRepeats; i++) {
      const b = await pullsOk(pullTarget(stage.directUrl, stage.big), 1, opts.pullTimeoutMs);
      results.directMs.push(b.wallMs);
      progress(`direct pull ${i + 1}: ${(b.wallMs / 1000).toFixed(2)} s`);
    }
  });
  await attempt(ctx, 'direct.proxy', async () => {
    for (let i = 0; i < opts.coldRepeats; i++) {
      const b = await pullsOk(pullTarget(stage.berthProxy.url, stage.big), 1, opts.pullTimeoutMs);
      results.directViaProxyMs.push(b.wallMs);
      progress(`direct pull through the counting proxy ${i + 1}: ${(b.wallMs / 1000).toFixed(2)} s`);
    }
    stage.berthProxy.reset();
  });
}

/** berth's cached copy of a blob (its store layout: blobs/sha256/<2 hex>/<hex>). */
const cachedBlobFile = (dataDir: string, digest: string): string => {
  const hex = digest.slice('sha256:'.length);
  return join(dataDir, 'blobs', 'sha256', hex.slice(0, 2), hex);
};

/** Warm GETs of the biggest layer; for berth, alternating with nginx serving the same file. */
async function blobGets(ctx: Ctx, m: Mirror): Promise<void> {
  const layer = biggestLayer(ctx.stage.bigSpec);
  const url = `${m.url}/v2/${ctx.stage.big.repo}/blobs/${layer.digest}`;
  const { blobGets: n, pullTimeoutMs: timeout } = ctx.opts;
  if (m.dataDir === undefined) {
    await attempt(ctx, `${m.kind}.blob`, async () => {
      ctx.results[m.kind].blob = (await blobThroughput([{ name: m.kind, url }], layer.size, n, BLOB_CLIENT, timeout)).get(m.kind);
    });
    return;
  }
  const dataDir = m.dataDir;
  await attempt(ctx, `${m.kind}.blob`, async () => {
    const nginx = await startNginx(ctx.cleanup, layer, cachedBlobFile(dataDir, layer.digest));
    try {
      ctx.results.nginxSource = nginx.source;
      const targets = [{ name: m.kind, url }, { name: 'nginx', url: nginx.fileUrl }];
      const got = await blobThroughput(targets, layer.size, n, BLOB_CLIENT, timeout);
      ctx.results[m.kind].blob = got.get(m.kind);
      ctx.results.nginx = got.get('nginx');
    } finally {
      await nginx.close();
    }
  });
}

async function blobAndHead(ctx: Ctx, m: Mirror): Promise<void> {
  const side = ctx.results[m.kind];
  const timeout = ctx.opts.pullTimeoutMs;
  await blobGets(ctx, m);
  const mbps = (x: number | undefined): string => (x === undefined ? '?' : x.toFixed(0));
  progress(`${m.kind} warm blob GET: ${mbps(side.blob?.median)} MB/s (median)${m.kind === 'berth' ? `, nginx ${mbps(ctx.results.nginx?.median)} MB/s` : ''}`);
  await attempt(ctx, `${m.kind}.head`, async () => {
    await pullsOk(pullTarget(m.url, ctx.stage.small), 1, timeout);
    const { small } = ctx.stage;
    const o = ctx.opts;
    side.head = await headLoad(`${m.url}/v2/${small.repo}/manifests/${small.tag}`, o.headRequests, o.headConcurrency, o.headMaxSeconds);
    progress(`${m.kind} tag HEAD: ${side.head.rps.toFixed(0)} req/s, p99 ${side.head.p99Ms} ms (${side.head.requests} requests)`);
  });
}

export async function singleMirror(ctx: Ctx, kind: MirrorKind): Promise<void> {
  const side = ctx.results[kind];
  const target = (url: string) => pullTarget(url, ctx.stage.big);
  const proxy = proxyOf(ctx, kind);
  let mirror: Mirror | undefined;
  try {
    await attempt(ctx, `${kind}.cold`, async () => {
      for (let i = 0; i < ctx.opts.coldRepeats; i++) {
        await mirror?.close();
        mirror = undefined;
        mirror = await startMirror(ctx, kind);
        proxy.reset();
        const m = mirror;
        const { value: b, cpu } = await withCpu(m.pid, () => pullsOk(target(m.url), 1, ctx.opts.pullTimeoutMs));
        side.coldMs.push(b.wallMs);
        side.coldCpu.push(cpu);
        side.coldFetch = blobFetchStats(proxy.requests, ctx.stage.big.blobs.map((x) => x.digest));
        progress(`${kind} cold pull ${i + 1}: ${(b.wallMs / 1000).toFixed(2)} s, ${cpu.toFixed(2)} CPU-s`);
      }
    });
    const warm = mirror;
    if (warm === undefined || side.coldMs.length === 0) return;
    await attempt(ctx, `${kind}.warm`, async () => {
      for (let i = 0; i < ctx.opts.warmRepeats; i++) {
        const { value: b, cpu } = await withCpu(warm.pid, () => pullsOk(target(warm.url), 1, ctx.opts.pullTimeoutMs));
        side.warmMs.push(b.wallMs);
        side.warmCpu.push(cpu);
        progress(`${kind} warm pull ${i + 1}: ${(b.wallMs / 1000).toFixed(2)} s, ${cpu.toFixed(2)} CPU-s`);
      }
    });
    await blobAndHead(ctx, warm);
  } finally {
    await mirror?.close();
  }
}
