/**
 * N clients pull the large image at once from a cold mirror (a fresh cache each): wall time,
 * upstream blob GETs per blob from the mirror's counting proxy, and the daemon's peak RSS.
 */
import { attempt, progress, proxyOf, startMirror, type Ctx, type MirrorKind } from './context.js';
import { runPulls } from './pulls.js';
import { resetTreePeak, treeMemoryOf, withCpu } from './procstat.js';
import { pullTarget } from './setup.js';
import { blobFetchStats } from './upstream-counts.js';

const MiB = 1024 * 1024;

export async function concurrentCold(ctx: Ctx, kind: MirrorKind, clients: number): Promise<void> {
  await attempt(ctx, `${kind}.c${clients}`, async () => {
    const mirror = await startMirror(ctx, kind);
    try {
      const proxy = proxyOf(ctx, kind);
      proxy.reset();
      const idleRss = (await treeMemoryOf(mirror.pid).catch(() => undefined))?.current;
      const peakReset = await resetTreePeak(mirror.pid);
      const { value: batch, cpu } = await withCpu(mirror.pid, () => runPulls(pullTarget(mirror.url, ctx.stage.big), clients, ctx.opts.pullTimeoutMs));
      // With workers: the largest process's peak (the per-process bound) and the sum of peaks.
      const memory = await treeMemoryOf(mirror.pid).catch(() => undefined);
      const fetch = blobFetchStats(proxy.requests, ctx.stage.big.blobs.map((b) => b.digest));
      const bytes = batch.results.reduce((a, r) => a + r.bytes, 0);
      ctx.results[kind].concurrent.set(clients, { clients, wallMs: batch.wallMs, bytes, failedPulls: batch.errors.length, fetch, memory, idleRss, cpu, peakReset });
      const peak = memory ? `${(memory.peak / MiB).toFixed(0)} MiB peak RSS per process (${memory.processes} processes, ${(memory.peakTotal / MiB).toFixed(0)} MiB summed)` : 'RSS unknown';
      progress(`${kind} ${clients} cold pulls: ${(batch.wallMs / 1000).toFixed(2)} s, blob GETs/blob max ${fetch.max} mean ${fetch.mean.toFixed(2)}, ${peak}, ${cpu.toFixed(1)} CPU-s`);
      if (batch.errors.length > 0) throw new Error(`${batch.errors.length}/${clients} pulls failed: ${batch.errors[0] ?? ''}`);
    } finally {
      await mirror.close();
    }
  });
}
