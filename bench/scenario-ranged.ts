/**
 * Issue 14: cold pulls of the large image when every upstream connection is capped (a CDN, a
 * long-haul link). skopeo straight from the capped upstream, alternating with skopeo through a
 * fresh berth (parallel ranges), median of each; and, with the cap off, berth with ranges
 * alternating with berth fetching one stream per blob, so splitting never costs speed.
 */
import { join } from 'node:path';
import type { FaultProxy } from '../test/support/proxy.js';
import { startFaultProxy } from '../test/support/proxy.js';
import { digestOfDir, skopeoCopy } from '../test/support/skopeo.js';
import { makeTempDir } from '../test/support/tempdir.js';
import { startBerth } from './berth.js';
import { attempt, progress, type Ctx } from './context.js';
import type { Row } from './report.js';
import { median } from './table.js';

const MiB = 1024 * 1024;
/** Per-connection cap, as measured from a distant registry's CDN. */
export const CAP_BYTES_PER_SEC = 16 * MiB;

interface Side {
  ms: number[];
  /** Upstream body bytes per pull, over the image's size. */
  bytesRatio: number[];
}

async function skopeoPull(ctx: Ctx, baseUrl: string, label: string): Promise<number> {
  const out = await makeTempDir('bench-ranged-pull');
  try {
    const ref = `${baseUrl.replace('http://', '')}/${ctx.stage.big.ref}`;
    const started = performance.now();
    const r = await skopeoCopy(`docker://${ref}`, `dir:${join(out.path, 'img')}`, { timeoutMs: ctx.opts.pullTimeoutMs });
    const ms = performance.now() - started;
    if (r.code !== 0) throw new Error(`${label}: skopeo exit ${r.code}: ${r.stderr.slice(-300)}`);
    const digest = await digestOfDir(join(out.path, 'img'));
    if (digest !== ctx.stage.big.digest) throw new Error(`${label}: pulled ${digest}`);
    return ms;
  } finally {
    await out.close();
  }
}

const blobBytes = (p: FaultProxy): number => p.requests.filter((r) => r.method === 'GET' && r.path.includes('/blobs/')).reduce((n, r) => n + r.bytes, 0);

/** One cold pull through a fresh berth in front of `proxy`; records time and upstream bytes. */
async function berthPull(ctx: Ctx, proxy: FaultProxy, connections: number, side: Side, imageBytes: number): Promise<void> {
  proxy.requests.length = 0;
  const berth = await startBerth(ctx.cleanup, proxy.url, { parallelFetch: { connections } });
  try {
    side.ms.push(await skopeoPull(ctx, berth.url, `berth (${connections} connections)`));
    side.bytesRatio.push(blobBytes(proxy) / imageBytes);
  } finally {
    await berth.close();
  }
}

export async function rangedCold(ctx: Ctx): Promise<Row[]> {
  const { stage, opts } = ctx;
  const imageBytes = stage.big.blobs.reduce((n, b) => n + b.size, 0);
  const repeats = Math.max(3, opts.coldRepeats);
  const direct: Side = { ms: [], bytesRatio: [] };
  const ranged: Side = { ms: [], bytesRatio: [] };
  const single: Side = { ms: [], bytesRatio: [] };
  const rangedOpen: Side = { ms: [], bytesRatio: [] };
  const capped = await startFaultProxy(stage.upstream.url);
  ctx.cleanup.add({ name: 'capped proxy (ranged)', close: () => capped.close() });
  capped.faults.add({ method: 'GET', path: /\/blobs\//, throttleBytesPerSec: CAP_BYTES_PER_SEC });
  const open = await startFaultProxy(stage.upstream.url);
  ctx.cleanup.add({ name: 'open proxy (ranged)', close: () => open.close() });
  await attempt(ctx, 'ranged.capped', async () => {
    for (let i = 0; i < repeats; i++) {
      direct.ms.push(await skopeoPull(ctx, capped.url, 'direct capped'));
      await berthPull(ctx, capped, 4, ranged, imageBytes);
      progress(`capped ${i + 1}: direct ${(direct.ms.at(-1)! / 1000).toFixed(2)} s, berth ${(ranged.ms.at(-1)! / 1000).toFixed(2)} s`);
    }
  });
  await attempt(ctx, 'ranged.open', async () => {
    for (let i = 0; i < repeats; i++) {
      await berthPull(ctx, open, 1, single, imageBytes);
      await berthPull(ctx, open, 4, rangedOpen, imageBytes);
      progress(`uncapped ${i + 1}: one stream ${(single.ms.at(-1)! / 1000).toFixed(2)} s, ranges ${(rangedOpen.ms.at(-1)! / 1000).toFixed(2)} s`);
    }
  });
  const s = (ms: number | undefined): string => (ms === undefined ? '—' : `${(ms / 1000).toFixed(2)} s`);
  const sizeMiB = Math.round(imageBytes / MiB);
  const [d, b, one, many] = [median(direct.ms), median(ranged.ms), median(single.ms), median(rangedOpen.ms)];
  const bytes = Math.max(...ranged.bytesRatio, ...rangedOpen.bytesRatio);
  return [
    {
      metric: `cold skopeo pull, ${sizeMiB} MiB, each upstream connection capped at 16 MiB/s (median of ${repeats})`,
      berth: s(b),
      distribution: '',
      reference: `${s(d)} direct`,
      ratio: b !== undefined && d !== undefined ? `${(b / d).toFixed(2)}× direct` : '—',
      target: '≤ 0.4× direct',
      pass: b !== undefined && d !== undefined ? b <= 0.4 * d : false,
    },
    {
      metric: 'upstream blob bytes per cold pull, ranged fills (worst run)',
      berth: `${bytes.toFixed(3)}× the image`,
      distribution: '',
      reference: '',
      ratio: '',
      target: '≤ 1.02×',
      pass: bytes <= 1.02,
    },
    {
      metric: `cold skopeo pull, ${sizeMiB} MiB, cap off: 4 ranged connections vs one stream (median of ${repeats})`,
      berth: s(many),
      distribution: '',
      reference: `${s(one)} one stream`,
      ratio: many !== undefined && one !== undefined ? `${(many / one).toFixed(2)}× one stream` : '—',
      target: 'not slower (≤ 1.1×, noise)',
      pass: many !== undefined && one !== undefined ? many <= 1.1 * one : false,
    },
  ];
}
