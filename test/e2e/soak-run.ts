/**
 * A mixed soak, bounded in time and count: warm and cold pulls by skopeo and by HTTP (undici,
 * some cut off at random points) through berth while the fault proxy spoils a share of the
 * upstream requests. Then, faults off: every image once more with every digest checked, berth
 * holds what it held before, and `berth verify` is clean. Used by the CI test and the bench.
 */
import { join } from 'node:path';
import { Agent } from 'undici';
import { seededRandom } from '../support/prng.js';
import { startFaultProxy } from '../support/proxy.js';
import { startRegistry } from '../support/registry.js';
import { makeTempDir } from '../support/tempdir.js';
import { berthCli } from './daemon.js';
import { assertFlat, download, heldBy, type Held } from './downloads.js';
import { ALL_ACCEPT, startMirror } from './harness.js';
import { httpOp, pushNext, skopeoOp, type Stage } from './soak-clients.js';
import { faultable, faultsApplied, injectFaults } from './soak-faults.js';

export interface SoakOptions {
  readonly seed: number;
  /** How long the faulty load runs. */
  readonly loadMs: number;
  /** Share of upstream requests that carry a fault. */
  readonly faultRate: number;
  readonly httpWorkers: number;
  readonly skopeoWorkers: number;
  /** Images pushed in all (cold content keeps coming while the load runs). */
  readonly maxImages: number;
  /** Bound on client operations, whatever the time. */
  readonly maxOps: number;
  readonly rssGrowthBytes: number;
  readonly progress?: (line: string) => void;
}

export interface SoakReport {
  readonly elapsedMs: number;
  readonly ops: number;
  /** Images first pulled during the load, berth having none of their content. */
  readonly coldImages: number;
  /** "client kind status outcome" → count. */
  readonly outcomes: Readonly<Record<string, number>>;
  readonly upstreamRequests: number;
  /** Upstream requests during the load that a fault could hit (blob GETs, manifest requests). */
  readonly faultable: number;
  /** Upstream blob requests during the load for a part of a blob (parallel ranges, resumes). */
  readonly rangedUpstream: number;
  /** Faults injected, by kind. */
  readonly faults: Readonly<Record<string, number>>;
  readonly faultsApplied: number;
  /** Broken promises: a 5xx berth must not send, wrong bytes, a wrong digest, verify findings, a leak. */
  readonly violations: readonly string[];
  readonly before: Held;
  readonly after: Held | undefined;
}

async function load(s: Stage, opts: SoakOptions): Promise<void> {
  const deadline = Date.now() + opts.loadMs;
  const more = (): boolean => Date.now() < deadline && s.ops < opts.maxOps;
  const loop = async (op: () => Promise<void>): Promise<void> => {
    while (more()) {
      s.ops++;
      await op();
    }
  };
  await Promise.all([
    ...Array.from({ length: opts.httpWorkers }, () => loop(() => httpOp(s))),
    ...Array.from({ length: opts.skopeoWorkers }, (_, w) => loop(() => skopeoOp(s, w))),
  ]);
  await s.pushing;
}

/** Faults off: every image, manifest by tag and every blob, must come back whole and right. */
async function finalCheck(s: Stage): Promise<void> {
  for (const img of s.images) {
    const base = `${s.mirror.url}/v2/${img.fx.repo}`;
    const m = await download(`${base}/manifests/${img.fx.tag}`, { dispatcher: s.agent, headers: { accept: ALL_ACCEPT } });
    if (m.status !== 200 || m.digest !== img.fx.digest) s.violations.push(`final ${img.fx.ref}: manifest ${m.status} ${m.digest ?? 'incomplete'}`);
    for (const b of img.blobs.values()) {
      const got = await download(`${base}/blobs/${b.digest}`, { dispatcher: s.agent });
      if (got.status !== 200 || got.digest !== b.digest) s.violations.push(`final ${img.fx.ref}: blob ${b.digest}: ${got.status} ${got.digest ?? 'incomplete'}`);
    }
  }
}

export async function runSoak(opts: SoakOptions): Promise<SoakReport> {
  const started = Date.now();
  const say = opts.progress ?? ((): void => undefined);
  const rnd = seededRandom(opts.seed);
  const registry = await startRegistry();
  const proxy = await startFaultProxy(registry.url, { random: seededRandom(opts.seed + 1).next });
  const tmp = await makeTempDir('soak');
  // A stalled upstream body is given up after a second and resumed; a few retries for manifests;
  // tags go stale within the run, so warm pulls revalidate them upstream (through the faults) too;
  // most layers (256 KiB and up) are fetched as parallel ranges, each of which a fault can hit.
  const upstreams = [
    '  docker.io:',
    `    url: ${JSON.stringify(proxy.url)}`,
    '    tagTtl: 2s',
    '    retries: 2',
    '    timeouts: { idle: 1s, headers: 2s }',
    '    parallelFetch: { minSize: 256KiB, connections: 3 }',
    '',
  ].join('\n');
  const mirror = await startMirror({ upstreams, dataDir: join(tmp.path, 'data') });
  const s: Stage = { registry, proxy, tmp, mirror, agent: new Agent({ keepAliveTimeout: 1_000 }), images: [], rnd, outcomes: new Map(), violations: [], maxImages: opts.maxImages, ops: 0, coldPulls: 0, pushed: 0, restocking: 0, pushing: Promise.resolve() };
  let before: Held | undefined;
  // The upstream requests made while the faults were on.
  let loadStart = 0;
  let loadEnd = 0;
  let after: Held | undefined;
  try {
    await Promise.all(Array.from({ length: 4 }, async () => {
      for (let i = 0; i < 3; i++) await pushNext(s);
    }));
    // Warm up the process (JIT, pools, heap) on a clean pull so the baseline is a steady state.
    await finalCheck(s);
    for (const img of s.images) img.pulled = true;
    before = await heldBy(mirror);
    say(`load for ${opts.loadMs / 1000} s: ${opts.httpWorkers} HTTP and ${opts.skopeoWorkers} skopeo clients, ${(opts.faultRate * 100).toFixed(1)}% upstream faults`);
    loadStart = proxy.requests.length;
    injectFaults(proxy, opts.faultRate);
    await load(s, opts);
    proxy.faults.clear();
    loadEnd = proxy.requests.length;
    say(`load done: ${s.ops} operations, ${s.images.length} images; checking`);
    await finalCheck(s);
    await s.agent.close();
    after = await assertFlat(mirror, before, { fdSlack: 24, rssGrowthBytes: opts.rssGrowthBytes, timeoutMs: 15_000 }).catch((err: Error) => {
      s.violations.push(`not flat at the end: ${err.message}`);
      return undefined;
    });
    const verify = await berthCli(['verify', '--data-dir', mirror.dataDir]);
    if (verify.code !== 0) s.violations.push(`berth verify exited ${verify.code}: ${verify.stdout.trim()} ${verify.stderr.trim()}`);
    const alive = await download(`${mirror.url}/v2/`, { dispatcher: new Agent() });
    if (alive.status !== 200) s.violations.push(`berth no longer answers /v2/: ${alive.status}`);
  } finally {
    await s.pushing;
    await s.agent.close().catch(() => undefined);
    await mirror.close();
    await proxy.close();
    await registry.close();
    await tmp.close();
  }
  const faults = faultsApplied(proxy, loadStart, loadEnd);
  return {
    elapsedMs: Date.now() - started,
    ops: s.ops,
    coldImages: s.coldPulls,
    outcomes: Object.fromEntries([...s.outcomes.entries()].sort()),
    upstreamRequests: proxy.requests.length,
    faultable: faultable(proxy, loadStart, loadEnd),
    rangedUpstream: proxy.requests.slice(loadStart, loadEnd).filter((r) => r.requestHeaders.range !== undefined).length,
    faults,
    faultsApplied: Object.values(faults).reduce((a, b) => a + b, 0),
    violations: s.violations,
    before: before!,
    after,
  };
}
