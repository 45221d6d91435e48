/**
 * A mixed soak, bounded in time and count: warm and cold pulls by skopeo and by HTTP (undici,
 * some cut off at random points) through berth while the fault proxy spoils a share of the
 * upstream requests. Then, faults off: every image once more with every digest checked, berth
 * holds what it held before, and `berth verify` is clean. Used by the CI test and the bench.
 */
import { createHash } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Agent } from 'undici';
import type { BlobContent } from '../support/blobgen.js';
import { makeImageSpec, pushImage, type ImageFixture } from '../support/images.js';
import { seededRandom, type Random } from '../support/prng.js';
import { startFaultProxy, type FaultProxy } from '../support/proxy.js';
import { startRegistry, type Registry } from '../support/registry.js';
import { digestOfDir, skopeoCopy } from '../support/skopeo.js';
import { makeTempDir, type TempDir } from '../support/tempdir.js';
import { berthCli } from './daemon.js';
import { assertFlat, download, heldBy, type Download, type Held } from './downloads.js';
import { ALL_ACCEPT, startMirror, type Mirror } from './harness.js';
import { faultable, faultsApplied, injectFaults } from './soak-faults.js';

const KiB = 1024;
/** Statuses berth may answer when the upstream fails; anything else 5xx is a defect. */
const UPSTREAM_FAILURE = new Set([502, 503, 504]);

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
  readonly coldImages: number;
  /** "client kind status outcome" → count. */
  readonly outcomes: Readonly<Record<string, number>>;
  readonly upstreamRequests: number;
  /** Upstream requests during the load that a fault could hit (blob GETs, manifest requests). */
  readonly faultable: number;
  /** Faults injected, by kind. */
  readonly faults: Readonly<Record<string, number>>;
  readonly faultsApplied: number;
  /** Broken promises: a 5xx berth must not send, wrong bytes, a wrong digest, verify findings, a leak. */
  readonly violations: readonly string[];
  readonly before: Held;
  readonly after: Held | undefined;
}

interface Image {
  readonly fx: ImageFixture;
  readonly blobs: ReadonlyMap<string, BlobContent>;
  pulled: boolean;
}

interface Stage {
  readonly registry: Registry;
  readonly proxy: FaultProxy;
  readonly tmp: TempDir;
  readonly mirror: Mirror;
  readonly agent: Agent;
  readonly images: Image[];
  readonly rnd: Random;
  readonly outcomes: Map<string, number>;
  readonly violations: string[];
  readonly maxImages: number;
  ops: number;
  pushed: number;
  /** Pushes in flight. */
  restocking: number;
  pushing: Promise<void>;
}

function sha256Range(blob: BlobContent, start: number, end: number): string {
  const h = createHash('sha256');
  let pos = 0;
  for (const c of blob.chunks()) {
    const from = Math.max(start, pos);
    const to = Math.min(end + 1, pos + c.length);
    if (from < to) h.update(c.subarray(from - pos, to - pos));
    pos += c.length;
    if (pos > end) break;
  }
  return `sha256:${h.digest('hex')}`;
}

async function pushNext(s: Stage): Promise<Image> {
  const i = s.pushed++;
  const layerSizes = Array.from({ length: s.rnd.int(1, 3) }, () => s.rnd.int(2 * KiB, 1024 * KiB));
  const spec = makeImageSpec({ seed: `soak-${i}`, layerSizes, mediaTypeFamily: i % 2 ? 'docker' : 'oci' });
  const fx = await pushImage(s.registry.url, `soak/app${i}`, '1.0', spec);
  const img: Image = { fx, blobs: new Map([spec.config, ...spec.layers].map((b) => [b.digest, b])), pulled: false };
  s.images.push(img);
  return img;
}

function count(s: Stage, key: string): void {
  s.outcomes.set(key, (s.outcomes.get(key) ?? 0) + 1);
}

/** Checks what one HTTP client saw; records the outcome and any broken promise. */
function judge(s: Stage, what: string, got: Download, expected: string | undefined): void {
  count(s, `http ${what.split(' ')[0]} ${got.status} ${got.complete ? 'complete' : got.aborted ? 'aborted' : 'broken'}`);
  if (got.status >= 500 && !UPSTREAM_FAILURE.has(got.status)) s.violations.push(`${what}: status ${got.status}`);
  if (got.status >= 400 && got.status < 500) s.violations.push(`${what}: status ${got.status}`);
  if (got.complete && (got.status === 200 || got.status === 206) && expected !== undefined && got.digest !== expected) {
    s.violations.push(`${what}: a complete ${got.status} with wrong bytes (${got.digest}, want ${expected})`);
  }
}

/** New images keep arriving while the load runs, a few pushes at a time, so cold pulls keep happening. */
function restock(s: Stage): void {
  while (s.restocking < 3 && s.images.length + s.restocking < s.maxImages && s.images.filter((i) => !i.pulled).length + s.restocking < 6) {
    s.restocking++;
    const pushed = pushNext(s).then(
      () => undefined,
      (err: unknown) => void s.violations.push(`pushing an image failed: ${err instanceof Error ? err.message : String(err)}`),
    ).finally(() => s.restocking--);
    s.pushing = Promise.all([s.pushing, pushed]).then(() => undefined);
  }
}

/** A recently pushed image nobody pulled yet (cold) half the time, else any pulled one (warm). */
function pickImage(s: Stage): Image {
  restock(s);
  const cold = s.images.filter((i) => !i.pulled);
  const warm = s.images.filter((i) => i.pulled);
  const img = cold.length > 0 && (warm.length === 0 || s.rnd.chance(0.5)) ? cold[0]! : s.rnd.pick(warm);
  img.pulled = true;
  return img;
}

async function httpOp(s: Stage): Promise<void> {
  const img = pickImage(s);
  const base = `${s.mirror.url}/v2/${img.fx.repo}`;
  const roll = s.rnd.next();
  const abort = (size: number): { abortAt?: number } => (s.rnd.chance(0.15) ? { abortAt: s.rnd.int(0, Math.max(0, size - 1)) } : {});
  if (roll < 0.25) {
    const ref = s.rnd.chance(0.5) ? img.fx.tag : img.fx.digest;
    const got = await download(`${base}/manifests/${ref}`, { dispatcher: s.agent, headers: { accept: ALL_ACCEPT }, ...abort(img.fx.size) });
    return judge(s, `manifest ${img.fx.repo}:${ref}`, got, img.fx.digest);
  }
  const blob = s.rnd.pick([...img.blobs.values()]);
  if (roll < 0.8) {
    const got = await download(`${base}/blobs/${blob.digest}`, { dispatcher: s.agent, ...abort(blob.size) });
    return judge(s, `blob ${blob.digest}`, got, blob.digest);
  }
  const start = s.rnd.int(0, blob.size - 1);
  const end = s.rnd.int(start, blob.size - 1);
  const got = await download(`${base}/blobs/${blob.digest}`, { dispatcher: s.agent, headers: { range: `bytes=${start}-${end}` }, ...abort(end - start + 1) });
  judge(s, `range ${blob.digest} ${start}-${end}`, got, sha256Range(blob, start, end));
}

async function skopeoOp(s: Stage, worker: number): Promise<void> {
  const img = pickImage(s);
  const out = join(s.tmp.path, `pull-${worker}`);
  // Some pulls are cut off part-way: skopeo killed like a client that gives up.
  const killed = s.rnd.chance(0.1);
  const r = await skopeoCopy(`docker://${new URL(s.mirror.url).host}/${img.fx.ref}`, `dir:${out}`, { timeoutMs: killed ? s.rnd.int(200, 2_000) : 60_000 });
  try {
    if (r.code === 0) {
      const digest = await digestOfDir(out);
      if (digest !== img.fx.digest) s.violations.push(`skopeo ${img.fx.ref}: manifest digest ${digest}, want ${img.fx.digest}`);
      count(s, 'skopeo pull ok');
    } else {
      // skopeo checks every blob's digest: a mismatch means berth sent a complete body with wrong bytes.
      if (/digest did not match|does not match|mismatch/i.test(r.stderr)) s.violations.push(`skopeo ${img.fx.ref}: wrong bytes: ${r.stderr.trim().slice(-300)}`);
      count(s, `skopeo pull ${r.timedOut ? 'killed' : 'failed'}`);
    }
  } finally {
    await rm(out, { recursive: true, force: true });
  }
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
  // tags go stale within the run, so warm pulls revalidate them upstream (through the faults) too.
  const upstreams = `  docker.io:\n    url: ${JSON.stringify(proxy.url)}\n    tagTtl: 2s\n    retries: 2\n    timeouts: { idle: 1s, headers: 2s }\n`;
  const mirror = await startMirror({ upstreams, dataDir: join(tmp.path, 'data') });
  const s: Stage = { registry, proxy, tmp, mirror, agent: new Agent({ keepAliveTimeout: 1_000 }), images: [], rnd, outcomes: new Map(), violations: [], maxImages: opts.maxImages, ops: 0, pushed: 0, restocking: 0, pushing: Promise.resolve() };
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
    coldImages: s.images.filter((i) => i.pulled).length,
    outcomes: Object.fromEntries([...s.outcomes.entries()].sort()),
    upstreamRequests: proxy.requests.length,
    faultable: faultable(proxy, loadStart, loadEnd),
    faults,
    faultsApplied: Object.values(faults).reduce((a, b) => a + b, 0),
    violations: s.violations,
    before: before!,
    after,
  };
}
