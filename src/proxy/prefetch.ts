/**
 * Prefetch: fill the cache for images the way a client pull would. Planning walks manifests
 * (by tag with every manifest type accepted, then child manifests of an index, only the wanted
 * platforms), fetching runs the blobs through the same single-flight fills as clients, a few at
 * a time. The source decides how: over HTTP against a running berth, or in-process.
 */
import type { Digest } from '../oci/digest.js';
import { parseImageRef, referenceOf } from '../oci/image-ref.js';
import { manifestRefs, type Descriptor } from '../oci/manifest-refs.js';
import { INDEX_TYPES } from '../oci/media-types.js';
import { platformMatches, type Platform } from '../oci/platform.js';
import { causeOfError } from '../upstream/error-cause.js';
import type { Outcome } from '../upstream/types.js';
import { listReferrers } from './list-referrers.js';

/** An image as a client names it on the wire: the path name and containerd's `ns`. */
export interface PrefetchTarget {
  readonly name: string;
  readonly ns?: string;
  /** Tag or digest. */
  readonly reference: string;
  /** For messages: the reference as the user wrote it. */
  readonly label: string;
}

export interface FetchedManifest {
  readonly bytes: Buffer;
  readonly mediaType: string;
  readonly digest: Digest;
}

export interface ImageSource {
  manifest(target: PrefetchTarget, reference: string): Promise<Outcome<FetchedManifest>>;
  /** Makes sure the blob is cached; reports body bytes as they pass. */
  blob(target: PrefetchTarget, digest: Digest, size: number, onBytes: (n: number) => void): Promise<Outcome<{ readonly cached: boolean }>>;
  /** The subject's referrers index (OCI 1.1), for `withReferrers`. */
  referrers?(target: PrefetchTarget, subject: Digest): Promise<Outcome<{ readonly bytes: Buffer }>>;
}

export interface PlannedBlob {
  readonly target: PrefetchTarget;
  readonly digest: Digest;
  readonly size: number;
}

export interface PrefetchProblem {
  readonly label: string;
  readonly what: string;
  readonly reason: string;
}

export interface PrefetchPlan {
  readonly images: number;
  readonly manifests: number;
  readonly blobs: readonly PlannedBlob[];
  readonly bytes: number;
  readonly problems: readonly PrefetchProblem[];
}

export interface PrefetchProgress {
  blobDone?(blob: PlannedBlob, ok: boolean, cached: boolean): void;
  bytes?(n: number): void;
}

export interface PrefetchResult {
  readonly blobs: number;
  readonly alreadyCached: number;
  readonly bytes: number;
  readonly problems: readonly PrefetchProblem[];
}

/** `image` strings as targets; malformed ones are reported and skipped. */
export function imageTargets(images: readonly string[], onError: (text: string, error: string) => void): PrefetchTarget[] {
  const out: PrefetchTarget[] = [];
  for (const text of images) {
    const p = parseImageRef(text);
    if (!p.ok) {
      onError(text, p.error);
      continue;
    }
    out.push({ name: p.ref.name, ...(p.ref.host !== undefined ? { ns: p.ref.host } : {}), reference: referenceOf(p.ref), label: text });
  }
  return out;
}

function reason(o: Exclude<Outcome<unknown>, { kind: 'found' }>): string {
  switch (o.kind) {
    case 'absent':
      return 'not found';
    case 'unreachable':
      return `unreachable (${o.cause.kind}: ${o.cause.message})`;
    case 'denied':
      return `denied (${o.status})`;
    case 'ratelimited':
      return 'rate-limited';
  }
}

/** Resolves every target down to the blobs to fetch; manifests are cached along the way. */
export async function planPrefetch(
  source: ImageSource,
  targets: readonly PrefetchTarget[],
  platforms: readonly Platform[],
  signal?: AbortSignal,
  opts: { readonly withReferrers?: boolean } = {},
): Promise<PrefetchPlan> {
  const blobs = new Map<string, PlannedBlob>();
  const problems: PrefetchProblem[] = [];
  let manifests = 0;
  let images = 0;
  const visit = async (t: PrefetchTarget, reference: string, depth: number): Promise<void> => {
    if (signal?.aborted) return;
    const got = await source.manifest(t, reference);
    if (got.kind !== 'found') {
      problems.push({ label: t.label, what: `manifest ${reference}`, reason: reason(got) });
      return;
    }
    manifests++;
    // Signatures and SBOMs of the image (and theirs), planned like images; listed once per root.
    if (opts.withReferrers && depth === 0) await visitReferrers(t, got.value.digest);
    const refs = manifestRefs(got.value.bytes);
    const isIndex = INDEX_TYPES.has(got.value.mediaType) || refs.children.length > 0;
    if (isIndex && depth < 3) {
      const wanted = refs.children.filter((c: Descriptor) => platforms.length === 0 || platforms.some((p) => platformMatches(p, c.platform)));
      if (wanted.length === 0) problems.push({ label: t.label, what: 'index', reason: 'no manifest for the requested platforms' });
      for (const c of wanted) await visit(t, c.digest.value, depth + 1);
      return;
    }
    images++;
    for (const b of refs.blobs) if (!blobs.has(b.digest.value)) blobs.set(b.digest.value, { target: t, digest: b.digest, size: b.size });
  };
  const visitReferrers = async (t: PrefetchTarget, subject: Digest): Promise<void> => {
    const referrers = source.referrers?.bind(source);
    const list = referrers ? await listReferrers((s) => referrers(t, s), subject) : undefined;
    if (list && list.kind !== 'found') problems.push({ label: t.label, what: `referrers of ${subject.value}`, reason: reason(list) });
    else for (const r of list?.value ?? []) await visit(t, r.digest, 1);
  };
  for (const t of targets) await visit(t, t.reference, 0);
  const list = [...blobs.values()];
  return { images, manifests, blobs: list, bytes: list.reduce((n, b) => n + Math.max(0, b.size), 0), problems };
}

/** Fetches the planned blobs, `concurrency` at a time. Never rejects; failures are listed. */
export async function runPrefetch(
  source: ImageSource,
  plan: PrefetchPlan,
  opts: { readonly concurrency?: number; readonly progress?: PrefetchProgress; readonly signal?: AbortSignal } = {},
): Promise<PrefetchResult> {
  const queue = [...plan.blobs];
  const problems: PrefetchProblem[] = [...plan.problems];
  let done = 0;
  let cachedBefore = 0;
  let bytes = 0;
  const worker = async (): Promise<void> => {
    for (let b = queue.shift(); b !== undefined && !opts.signal?.aborted; b = queue.shift()) {
      const blob = b;
      let got: Outcome<{ readonly cached: boolean }>;
      try {
        got = await source.blob(blob.target, blob.digest, blob.size, (n) => {
          bytes += n;
          opts.progress?.bytes?.(n);
        });
      } catch (err) {
        got = { kind: 'unreachable', cause: causeOfError(err) };
      }
      if (got.kind === 'found') {
        done++;
        if (got.value.cached) cachedBefore++;
      } else {
        problems.push({ label: blob.target.label, what: `blob ${blob.digest.value}`, reason: reason(got) });
      }
      opts.progress?.blobDone?.(blob, got.kind === 'found', got.kind === 'found' && got.value.cached);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, opts.concurrency ?? 4) }, worker));
  return { blobs: done, alreadyCached: cachedBefore, bytes, problems };
}
