/**
 * The soak's clients and what they share: images pushed as the run goes (cold content), HTTP
 * downloads of manifests, blobs and ranges (some cut off), skopeo pulls (some killed), and the
 * judgement of every answer against the promises berth makes.
 */
import { createHash } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Agent } from 'undici';
import type { BlobContent } from '../support/blobgen.js';
import { makeImageSpec, pushImage, type ImageFixture } from '../support/images.js';
import type { Random } from '../support/prng.js';
import type { FaultProxy } from '../support/proxy.js';
import type { Registry } from '../support/registry.js';
import { digestOfDir, skopeoCopy } from '../support/skopeo.js';
import type { TempDir } from '../support/tempdir.js';
import { download, type Download } from './downloads.js';
import { ALL_ACCEPT, type Mirror } from './harness.js';

const KiB = 1024;
/** Statuses berth may answer when the upstream fails; anything else 5xx is a defect. */
const UPSTREAM_FAILURE = new Set([502, 503, 504]);

export interface Image {
  readonly fx: ImageFixture;
  readonly blobs: ReadonlyMap<string, BlobContent>;
  pulled: boolean;
}

export interface Stage {
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
  /** Images whose first pull came during the load (berth had none of their content). */
  coldPulls: number;
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

/** Pushes a new image of 1-3 layers of up to 1 MiB. */
export async function pushNext(s: Stage): Promise<Image> {
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
  if (cold.length === 0 || (warm.length > 0 && !s.rnd.chance(0.5))) return s.rnd.pick(warm);
  const img = cold[0]!;
  img.pulled = true;
  s.coldPulls++;
  return img;
}

export async function httpOp(s: Stage): Promise<void> {
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

export async function skopeoOp(s: Stage, worker: number): Promise<void> {
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

