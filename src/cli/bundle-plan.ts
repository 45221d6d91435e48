/**
 * What an export bundle holds: for each image reference, the manifest the tag index says it
 * resolves to (offline, no upstream), its child manifests and their blobs, all from the store.
 */
import { parseDigest, type Digest } from '../oci/digest.js';
import { formatImageRef, parseImageRef } from '../oci/image-ref.js';
import { manifestRefs } from '../oci/manifest-refs.js';
import { INDEX_TYPES, KNOWN_MANIFEST_TYPES } from '../oci/media-types.js';
import type { BlobStore } from '../store/blob-store.js';
import type { ManifestStore } from '../store/manifest-store.js';
import type { TagEntry, TagIndex } from '../store/tag-index.js';
import type { Config } from '../config/index.js';
import { emptyReferrersIndex } from '../oci/referrers.js';
import { listReferrers } from '../proxy/list-referrers.js';
import { cachedReferrers } from '../proxy/referrers.js';
import { resolveImage } from './cli-config.js';

export interface BundleImage {
  readonly label: string;
  /** `upstream/repository[:tag|@digest]` */
  readonly fullName: string;
  readonly tag?: string;
  readonly digest: string;
  readonly mediaType: string;
  readonly size: number;
}

export interface BundlePlan {
  readonly images: readonly BundleImage[];
  /** Every manifest and blob, once, with its size. */
  readonly content: ReadonlyMap<string, number>;
  /** Reasons the bundle cannot be written. */
  readonly errors: readonly string[];
  /** Index children that are not cached (those platforms were never pulled). */
  readonly notes: readonly string[];
}

/** Of a tag's cached accept-variants, an index (every platform) first, then the newest. */
export function bestVariant(variants: ReadonlyArray<{ readonly entry: TagEntry }>): TagEntry | undefined {
  const rank = (e: TagEntry): number => (INDEX_TYPES.has(e.mediaType) ? 1 : 0);
  let best: TagEntry | undefined;
  for (const { entry } of variants) {
    if (!best || rank(entry) > rank(best) || (rank(entry) === rank(best) && entry.fetchedAt > best.fetchedAt)) best = entry;
  }
  return best;
}

export async function planBundle(
  config: Config,
  tags: TagIndex,
  manifests: ManifestStore,
  store: BlobStore,
  refs: readonly string[],
  opts: { readonly withReferrers?: boolean } = {},
): Promise<BundlePlan> {
  const images: BundleImage[] = [];
  const content = new Map<string, number>();
  const errors: string[] = [];
  const notes: string[] = [];

  const visit = async (label: string, digest: Digest, depth: number): Promise<boolean> => {
    const m = await manifests.get(digest);
    if (!m) {
      if (depth === 0) errors.push(`${label}: manifest ${digest.value} is not cached`);
      else notes.push(`${label}: child manifest ${digest.value} is not cached (platform never pulled); left out`);
      return false;
    }
    content.set(digest.value, m.bytes.length);
    const r = manifestRefs(m.bytes);
    for (const c of r.children) if (!content.has(c.digest.value) && depth < 3) await visit(label, c.digest, depth + 1);
    for (const b of r.blobs) {
      const st = await store.stat(b.digest);
      if (!st) errors.push(`${label}: blob ${b.digest.value} is not cached`);
      else content.set(b.digest.value, st.size);
    }
    return true;
  };

  // Signatures and SBOMs go in as untagged index.json entries, as `oras copy -r` lays them out.
  // Offline: the referrers lists berth last fetched, whatever their age.
  const addReferrers = async (label: string, upstream: string, repository: string, subject: Digest): Promise<void> => {
    const list = await listReferrers(async (s) => {
      const bytes = await cachedReferrers(tags, manifests, upstream, repository, s);
      if (!bytes && s.value === subject.value) notes.push(`${label}: its referrers were never fetched (pull them, or prefetch --with-referrers); none exported`);
      return { kind: 'found', value: { bytes: bytes ?? emptyReferrersIndex() } };
    }, subject);
    for (const r of list.kind === 'found' ? list.value : []) {
      const digest = parseDigest(r.digest);
      if (!digest || content.has(digest.value) || !(await visit(label, digest, 1))) continue;
      images.push({ label, fullName: formatImageRef({ host: upstream, name: repository, digest }), digest: digest.value, mediaType: r.mediaType, size: r.size });
    }
  };

  for (const label of refs) {
    const parsed = parseImageRef(label);
    if (!parsed.ok) {
      errors.push(parsed.error);
      continue;
    }
    const ref = parsed.ref;
    const where = resolveImage(config, ref.host, ref.name);
    if (typeof where === 'string') {
      errors.push(`${label}: ${where}`);
      continue;
    }
    let digest = ref.digest;
    let entry: TagEntry | undefined;
    if (digest === undefined && ref.tag !== undefined) {
      entry = bestVariant(tags.variants(where.upstream, where.repository, ref.tag));
      if (!entry) {
        errors.push(`${label}: tag ${ref.tag} is not in the tag index of ${config.storage.path}`);
        continue;
      }
      digest = parseDigest(entry.digest);
      if (!digest) {
        errors.push(`${label}: manifest ${entry.digest} is not cached`);
        continue;
      }
    }
    if (digest === undefined || !(await visit(label, digest, 0))) continue;
    const m = await manifests.get(digest);
    const fullName = formatImageRef({ host: where.upstream, name: where.repository, ...(ref.digest === undefined && ref.tag !== undefined ? { tag: ref.tag } : { digest }) });
    images.push({
      label,
      fullName,
      ...(ref.digest === undefined && ref.tag !== undefined ? { tag: ref.tag } : {}),
      digest: digest.value,
      mediaType: m?.mediaType ?? entry?.mediaType ?? KNOWN_MANIFEST_TYPES[1]!,
      size: m?.bytes.length ?? entry?.size ?? 0,
    });
    if (opts.withReferrers) await addReferrers(label, where.upstream, where.repository, digest);
  }
  return { images, content, errors, notes };
}
