/**
 * The warm data plane against nginx (sendfile) serving the very same cached files, for berth
 * with `--workers 1` and with its default: one stream on a fresh daemon, 4 and 16 parallel
 * downloads (aggregate), 200 concurrent downloads (aggregate, slowest client, RSS of every
 * process), then one stream again, to show throughput does not depend on what came before.
 * Servers alternate round by round (ABAB…); medians of `warmRounds` rounds.
 */
import { setMaxListeners } from 'node:events';
import { Agent, request } from 'undici';
import type { BlobContent } from '../test/support/blobgen.js';
import { run } from '../test/support/proc.js';
import { startBerth } from './berth.js';
import { blobThroughput, type ThroughputTarget } from './blob-get.js';
import { attempt, progress, type Ctx } from './context.js';
import { startNginx } from './nginx.js';
import { resetTreePeak, treeMemoryOf } from './procstat.js';
import { biggestLayer, pullTarget } from './setup.js';
import { pullsOk } from './pulls.js';
import { median } from './table.js';

const MB = 1_000_000;
const MiB = 1024 * 1024;

export interface ManyResult {
  /** MB/s of all clients together, per round. */
  aggregate: number[];
  /** MB/s of the slowest client, per round. */
  slowest: number[];
  /** Mean per-client MB/s, per round. */
  mean: number[];
}

export interface WarmSide {
  singleFresh: number[];
  singleAfter: number[];
  parallel: Map<number, number[]>;
  many: ManyResult;
}

export interface WarmRun {
  /** The --workers value, or 'default'. */
  readonly label: string;
  readonly processes: number;
  readonly berth: WarmSide;
  readonly nginx: WarmSide;
  /** Peak RSS during the many-client case: largest process, and summed over processes (bytes). */
  manyPeak: number | undefined;
  manyPeakTotal: number | undefined;
}

const emptySide = (): WarmSide => ({ singleFresh: [], singleAfter: [], parallel: new Map(), many: { aggregate: [], slowest: [], mean: [] } });

/** The smallest layer of the image: what 200 clients download at once. */
function smallestLayer(ctx: Ctx): BlobContent {
  const layers = ctx.stage.bigSpec.layers;
  return layers.reduce((a, b) => (b.size < a.size ? b : a), layers[0]!);
}

async function curlParallel(url: string, size: number, n: number, timeoutMs: number): Promise<number> {
  const started = performance.now();
  await Promise.all(
    Array.from({ length: n }, async () => {
      const r = await run('curl', ['-sS', '-o', '/dev/null', '--noproxy', '*', '-w', '%{http_code} %{size_download}', url], { timeoutMs });
      const [code, bytes] = r.stdout.trim().split(' ');
      if (r.code !== 0 || code !== '200' || Number(bytes) !== size) throw new Error(`curl ${url}: exit ${r.code} ${r.stdout} ${r.stderr}`);
    }),
  );
  return (n * size) / MB / ((performance.now() - started) / 1000);
}

/** `clients` concurrent GETs on as many connections; every body counted and checked. */
async function manyClients(url: string, size: number, clients: number, timeoutMs: number): Promise<{ aggregate: number; slowest: number; mean: number }> {
  const agent = new Agent({ connections: clients, keepAliveTimeout: 1_000 });
  const signal = AbortSignal.timeout(timeoutMs);
  // Every client's request listens on the one deadline.
  setMaxListeners(clients + 10, signal);
  try {
    const started = performance.now();
    const rates = await Promise.all(
      Array.from({ length: clients }, async () => {
        const t0 = performance.now();
        const res = await request(url, { dispatcher: agent, signal });
        let n = 0;
        for await (const c of res.body) n += (c as Buffer).length;
        if (res.statusCode !== 200 || n !== size) throw new Error(`GET ${url}: HTTP ${res.statusCode}, ${n} of ${size} bytes`);
        return size / MB / ((performance.now() - t0) / 1000);
      }),
    );
    const wall = (performance.now() - started) / 1000;
    return { aggregate: (clients * size) / MB / wall, slowest: Math.min(...rates), mean: rates.reduce((a, b) => a + b, 0) / rates.length };
  } finally {
    await agent.destroy();
  }
}

/** Polls fresh connections until every worker has answered once (the last may still be starting). */
async function allWorkersUp(url: string, workers: number): Promise<void> {
  const seen = new Set<string>();
  for (let i = 0; i < 200 && seen.size < workers; i++) {
    const agent = new Agent({ connections: 1 });
    const res = await request(`${url}/v2/`, { dispatcher: agent });
    await res.body.dump();
    seen.add(String(res.headers['x-berth-worker'] ?? '0'));
    await agent.close();
  }
}

export async function warmDataPlane(ctx: Ctx, workers: number | undefined): Promise<void> {
  const label = workers === undefined ? 'default' : String(workers);
  await attempt(ctx, `warm.${label}`, async () => {
    const { opts, cleanup, stage } = ctx;
    const big = biggestLayer(stage.bigSpec);
    const small = smallestLayer(ctx);
    const berth = await startBerth(cleanup, stage.berthProxy.url, {}, workers);
    try {
      // Warm: the image is cached (and so both layers nginx serves from berth's own files).
      await pullsOk(pullTarget(berth.url, stage.big), 1, opts.pullTimeoutMs);
      const processes = (await treeMemoryOf(berth.pid)).processes;
      await allWorkersUp(berth.url, Math.max(1, processes - 1));
      const blobUrl = (l: BlobContent): string => `${berth.url}/v2/${stage.big.repo}/blobs/${l.digest}`;
      const file = (l: BlobContent): string => `${berth.dataDir}/blobs/sha256/${l.digest.slice(7, 9)}/${l.digest.slice(7)}`;
      const [nginxBig, nginxSmall] = [await startNginx(cleanup, big, file(big)), await startNginx(cleanup, small, file(small))];
      const r: WarmRun = { label, processes, berth: emptySide(), nginx: emptySide(), manyPeak: undefined, manyPeakTotal: undefined };
      ctx.results.warm.push(r);
      try {
        const single = async (into: (s: WarmSide) => number[]): Promise<void> => {
          const targets: ThroughputTarget[] = [{ name: 'berth', url: blobUrl(big) }, { name: 'nginx', url: nginxBig.fileUrl }];
          const got = await blobThroughput(targets, big.size, opts.warmRounds, 'curl', opts.pullTimeoutMs);
          into(r.berth).push(...(got.get('berth')?.runs ?? []));
          into(r.nginx).push(...(got.get('nginx')?.runs ?? []));
        };
        await single((s) => s.singleFresh);
        progress(`warm --workers ${label}: single stream fresh ${fmt(r.berth.singleFresh)} vs nginx ${fmt(r.nginx.singleFresh)} MB/s`);
        for (const p of [4, 16]) {
          for (const s of [r.berth, r.nginx]) s.parallel.set(p, []);
          for (let round = 0; round < opts.warmRounds; round++) {
            r.berth.parallel.get(p)!.push(await curlParallel(blobUrl(big), big.size, p, opts.pullTimeoutMs));
            r.nginx.parallel.get(p)!.push(await curlParallel(nginxBig.fileUrl, big.size, p, opts.pullTimeoutMs));
          }
          progress(`warm --workers ${label}: ${p} parallel ${fmt(r.berth.parallel.get(p)!)} vs nginx ${fmt(r.nginx.parallel.get(p)!)} MB/s aggregate`);
        }
        await resetTreePeak(berth.pid);
        for (let round = 0; round < opts.manyRounds; round++) {
          for (const [side, url] of [[r.berth, blobUrl(small)], [r.nginx, nginxSmall.fileUrl]] as const) {
            const m = await manyClients(url, small.size, opts.manyClients, opts.pullTimeoutMs);
            side.many.aggregate.push(m.aggregate);
            side.many.slowest.push(m.slowest);
            side.many.mean.push(m.mean);
          }
        }
        const mem = await treeMemoryOf(berth.pid);
        r.manyPeak = mem.peak;
        r.manyPeakTotal = mem.peakTotal;
        progress(
          `warm --workers ${label}: ${opts.manyClients} clients ${fmt(r.berth.many.aggregate)} MB/s (slowest ${fmt(r.berth.many.slowest)}, mean ${fmt(r.berth.many.mean)}) vs nginx ${fmt(r.nginx.many.aggregate)}; peak RSS ${(mem.peak / MiB).toFixed(0)} MiB per process, ${(mem.peakTotal / MiB).toFixed(0)} MiB summed`,
        );
        await single((s) => s.singleAfter);
        progress(`warm --workers ${label}: single stream after ${fmt(r.berth.singleAfter)} vs nginx ${fmt(r.nginx.singleAfter)} MB/s`);
      } finally {
        await nginxBig.close();
        await nginxSmall.close();
      }
    } finally {
      await berth.close();
    }
  });
}

const fmt = (xs: readonly number[]): string => (median(xs) ?? 0).toFixed(1);
