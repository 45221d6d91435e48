/**
 * `berth stats`: what the cache holds (bytes, blobs, manifests, tags, the repositories holding
 * the most bytes by the tag index) and, when a daemon answers on --url, its hit ratio since it
 * started. Reads only; usable while the daemon runs.
 */
import type { Command } from 'commander';
import { request } from 'undici';
import { parseDigest, type Digest } from '../oci/digest.js';
import { closureOf } from '../store/closure.js';
import { metaRecords } from '../store/housekeeping.js';
import { cliConfig, daemonUrl, existingDataDir, type DataFlags, withDataDirOptions } from './cli-config.js';
import { parseSamples, sumOf } from './metrics-text.js';
import { openOfflineCache, type OfflineCache } from './offline-cache.js';
import { formatBytes } from '../util/format-bytes.js';

interface StatsFlags extends DataFlags {
  url?: string;
  top?: string;
  json?: boolean;
}

export interface DaemonStats {
  readonly url: string;
  readonly lookups: number;
  readonly hits: number;
  readonly hitRatio: number | null;
  readonly evictions: number;
  /** The daemon's store: with object storage, the bucket. */
  readonly cacheBytes: number;
}

async function daemonStats(url: string): Promise<DaemonStats | undefined> {
  try {
    const res = await request(new URL('/metrics', url), { headersTimeout: 2_000, bodyTimeout: 5_000 });
    const text = await res.body.text();
    if (res.statusCode !== 200) return undefined;
    const samples = parseSamples(text);
    const name = 'berth_cache_requests_total';
    const lookups = sumOf(samples, name);
    const hits = sumOf(samples, name, { result: 'hit' }) + sumOf(samples, name, { result: 'stale' });
    return { url, lookups, hits, hitRatio: lookups > 0 ? hits / lookups : null, evictions: sumOf(samples, 'berth_cache_evictions_total'), cacheBytes: sumOf(samples, 'berth_cache_size_bytes') };
  } catch {
    return undefined;
  }
}

async function topRepositories(cache: OfflineCache, sizes: ReadonlyMap<string, number>, top: number): Promise<Array<{ repository: string; bytes: number; tags: number }>> {
  const byRepo = new Map<string, { roots: Digest[]; tags: Set<string> }>();
  for (const [k, e] of cache.tags.entries()) {
    const name = `${k.upstream}/${k.repository}`;
    const r = byRepo.get(name) ?? { roots: [], tags: new Set<string>() };
    const root = parseDigest(e.digest);
    if (root) r.roots.push(root);
    r.tags.add(k.tag);
    byRepo.set(name, r);
  }
  const out: Array<{ repository: string; bytes: number; tags: number }> = [];
  for (const [repository, r] of byRepo) {
    let bytes = 0;
    for (const d of await closureOf(r.roots, cache.readManifest)) bytes += sizes.get(d) ?? 0;
    out.push({ repository, bytes, tags: r.tags.size });
  }
  return out.sort((a, b) => b.bytes - a.bytes).slice(0, top);
}

async function stats(flags: StatsFlags): Promise<number> {
  const config = cliConfig('stats', flags);
  if (!config || !(await existingDataDir('stats', config))) return 2;
  const cache = await openOfflineCache(config);
  if (typeof cache === 'string') {
    process.stderr.write(`berth stats: ${cache}\n`);
    return 2;
  }
  const sizes = new Map<string, number>();
  let bytes = 0;
  for await (const b of cache.store.list()) {
    sizes.set(b.digest, b.size);
    bytes += b.size;
  }
  let manifests = 0;
  for await (const m of metaRecords(cache.store.layout)) if (m.present && sizes.has(m.digest.value)) manifests++;
  const tagNames = new Set<string>();
  for (const [k] of cache.tags.entries()) tagNames.add(`${k.upstream}/${k.repository}:${k.tag}`);
  const top = await topRepositories(cache, sizes, Math.max(1, Number(flags.top ?? 10) || 10));
  const daemon = await daemonStats(flags.url ?? daemonUrl(config));
  // With object storage the data dir holds no content: the bucket's size is the daemon's.
  const bucket = config.storage.backend === 's3';
  if (bucket) bytes = daemon?.cacheBytes ?? 0;
  const report = {
    dataDir: config.storage.path,
    ...(bucket ? { bucket: config.storage.s3?.bucket ?? null } : {}),
    bytes,
    maxSize: config.storage.maxSize,
    blobs: sizes.size - manifests,
    manifests,
    tags: tagNames.size,
    topRepositories: top,
    daemon: daemon ?? null,
  };
  if (flags.json) {
    process.stdout.write(`${JSON.stringify(report)}\n`);
    return 0;
  }
  const where = bucket ? `bucket     ${report.bucket ?? ''}${daemon ? '' : ' (size unknown: no daemon answered; use --url)'}\n` : '';
  const cap = config.storage.maxSize > 0 ? ` of ${formatBytes(config.storage.maxSize)} (${((100 * bytes) / config.storage.maxSize).toFixed(1)}%)` : ' (no size cap)';
  process.stdout.write(`data dir   ${report.dataDir}\n${where}size       ${formatBytes(bytes)}${cap}\nblobs      ${report.blobs}\nmanifests  ${manifests}\ntags       ${report.tags}\n`);
  if (top.length > 0) {
    process.stdout.write('top repositories by bytes:\n');
    for (const r of top) process.stdout.write(`  ${formatBytes(r.bytes).padStart(10)}  ${r.repository} (${r.tags} tag(s))\n`);
  }
  if (daemon) {
    const ratio = daemon.hitRatio === null ? 'n/a (no lookups yet)' : `${(100 * daemon.hitRatio).toFixed(1)}% (${daemon.hits} of ${daemon.lookups} lookups)`;
    process.stdout.write(`hit ratio  ${ratio} since the daemon at ${daemon.url} started; ${daemon.evictions} eviction(s)\n`);
  } else {
    process.stdout.write('hit ratio  unknown (no daemon answered; use --url)\n');
  }
  return 0;
}

export function registerStats(program: Command): void {
  withDataDirOptions(program.command('stats').description('cache size, blob, manifest and tag counts, top repositories, and the daemon\'s hit ratio'))
    .option('-u, --url <url>', 'a running berth whose /metrics to read (default: the listen address of the config)')
    .option('--top <n>', 'how many repositories to list (default 10)')
    .option('--json', 'print the report as JSON')
    .action(async (flags: StatsFlags) => {
      process.exitCode = await stats(flags);
    });
}
