/** The report's setup lines and notes: how each number was taken, and what went wrong. */
import type { Ctx } from './context.js';

const MiB = 1024 * 1024;

export function setupLines(ctx: Ctx, blobClient: string, berthMain: string): string[] {
  const { opts, stage } = ctx;
  const layers = opts.layerSizes.map((s) => s / MiB).join(' + ');
  const cap = opts.upstreamMbps === undefined ? 'uncapped' : `capped at ${opts.upstreamMbps} MB/s per proxy (BENCH_UPSTREAM_MBPS)`;
  return [
    `variant: ${opts.quick ? 'quick (BENCH_QUICK=1)' : 'full'}`,
    `image: ${stage.big.ref}, ${opts.layerSizes.length} layers (${layers} MiB) + config, docker v2 manifest; small image ${stage.small.ref} for tag HEADs; seeded in ${stage.seedSeconds.toFixed(1)} s`,
    `upstream: CNCF distribution (docker-registry) on 127.0.0.1; berth and distribution each reach it through their own counting proxy (test/support/proxy.ts), upstream bandwidth ${cap}`,
    `berth: \`node ${berthMain} serve\` child process, storage.fsync false, log level warn, tagTtl 5m; distribution: \`docker-registry\` with proxy.remoteurl; both on fresh data dirs for every cold measurement`,
    `direct baseline: the same pull from ${opts.upstreamMbps === undefined ? 'the upstream registry itself (no proxy)' : 'a capped proxy in front of the upstream registry'}`,
    `clients: image pulls = undici in a worker thread, manifest by tag then all blobs in parallel, each sha256-verified and discarded, one connection pool per client; blob GETs = ${blobClient} (same client for every server); tag HEADs = ApacheBench \`ab -i -k\``,
  ];
}

export function notes(ctx: Ctx, elapsedSeconds: number): string[] {
  const r = ctx.results;
  const out: string[] = [];
  const cf = r.berth.coldFetch;
  if (cf) out.push(`single cold pull through berth: upstream GETs per blob max ${cf.max}, mean ${cf.mean.toFixed(2)}, ${cf.totalRequests} upstream requests in all`);
  const df = r.distribution.coldFetch;
  if (df) out.push(`single cold pull through distribution: upstream GETs per blob max ${df.max}, mean ${df.mean.toFixed(2)}, ${df.totalRequests} upstream requests in all`);
  if (r.nginxSource) out.push(`nginx served ${r.nginxSource === 'hardlink' ? "a hard link to berth's cached blob file (same inode, same page cache)" : 'a freshly written copy of the blob'}; sendfile on, 1 worker`);
  const mib = (b: number | undefined): string => (b === undefined ? '?' : (b / MiB).toFixed(0));
  for (const kind of ['berth', 'distribution'] as const) {
    for (const [n, c] of r[kind].concurrent) {
      const reset = c.peakReset ? 'VmHWM reset just before the pulls' : 'peak since start';
      out.push(`${kind}, ${n} cold pulls: RSS ${mib(c.idleRss)} MiB idle → peak ${mib(c.memory?.peak)} MiB (${reset}), ${mib(c.memory?.current)} MiB after; ${c.cpu.toFixed(1)} CPU-s; ${c.fetch.totalRequests} upstream requests`);
    }
  }
  const cpus = (xs: readonly number[]): string => xs.map((x) => x.toFixed(2)).join(', ');
  for (const kind of ['berth', 'distribution'] as const) {
    out.push(`${kind} CPU seconds per single pull: cold ${cpus(r[kind].coldCpu)}; warm ${cpus(r[kind].warmCpu)}`);
  }
  const runs = (xs: readonly number[]): string => xs.map((x) => (x / 1000).toFixed(2)).join(', ');
  out.push(`cold pull times (s): berth ${runs(r.berth.coldMs)}; distribution ${runs(r.distribution.coldMs)}; direct ${runs(r.directMs)}; direct through the counting proxy ${runs(r.directViaProxyMs)}`);
  for (const kind of ['berth', 'distribution'] as const) {
    const h = r[kind].head;
    if (h) out.push(`${kind} tag HEADs: ${h.requests} requests in ${h.seconds.toFixed(1)} s, p50 ${h.p50Ms.toFixed(2)} ms, p99 ${h.p99Ms.toFixed(2)} ms`);
  }
  if (r.berth.blob && r.nginx) out.push(`blob GET runs (MB/s): berth ${r.berth.blob.runs.map((x) => x.toFixed(0)).join(', ')}; nginx ${r.nginx.runs.map((x) => x.toFixed(0)).join(', ')}`);
  for (const [key, msg] of r.errors) out.push(`ERROR ${key}: ${msg.slice(0, 400)}`);
  out.push(`whole run: ${elapsedSeconds.toFixed(0)} s`);
  return out;
}
