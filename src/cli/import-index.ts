/**
 * After a bundle's blobs are in the store: its index.json walked down to every blob, each
 * manifest recorded with its media type, completeness checked, and tags written to the index.
 */
import type { Config } from '../config/index.js';
import { IMAGE_NAME, REF_NAME } from '../oci/image-layout.js';
import { parseImageRef } from '../oci/image-ref.js';
import { manifestRefs, type Descriptor } from '../oci/manifest-refs.js';
import { sniffManifestType } from '../oci/media-types.js';
import type { BlobStore } from '../store/blob-store.js';
import type { ManifestStore } from '../store/manifest-store.js';
import type { TagIndex } from '../store/tag-index.js';
import { resolveImage, upstreamOf } from './cli-config.js';

export interface LayoutIndex {
  readonly images: readonly Descriptor[];
  readonly manifests: number;
  readonly errors: readonly string[];
  readonly notes: readonly string[];
}

export async function loadLayoutIndex(indexBytes: Buffer, store: BlobStore, manifests: ManifestStore): Promise<LayoutIndex> {
  const errors: string[] = [];
  const notes: string[] = [];
  const done = new Set<string>();
  const images = manifestRefs(indexBytes).children;
  if (images.length === 0) errors.push('index.json lists no manifests');
  const visit = async (desc: Descriptor, depth: number): Promise<void> => {
    const d = desc.digest;
    if (done.has(d.value)) return;
    done.add(d.value);
    const bytes = await store.readAll(d);
    if (!bytes) {
      if (depth === 0) errors.push(`manifest ${d.value} is not in the bundle`);
      else notes.push(`child manifest ${d.value} is not in the bundle (platform not exported)`);
      return;
    }
    if (desc.size >= 0 && bytes.length !== desc.size) {
      errors.push(`manifest ${d.value} has ${bytes.length} bytes, its descriptor says ${desc.size}`);
      return;
    }
    await manifests.put(d, bytes, desc.mediaType || sniffManifestType(bytes) || 'application/vnd.oci.image.manifest.v1+json');
    const refs = manifestRefs(bytes);
    if (depth < 3) for (const c of refs.children) await visit(c, depth + 1);
    for (const b of refs.blobs) {
      const st = await store.stat(b.digest);
      if (!st) errors.push(`blob ${b.digest.value} (of ${d.value}) is not in the bundle`);
      else if (b.size >= 0 && st.size !== b.size) errors.push(`blob ${b.digest.value} has ${st.size} bytes, its descriptor says ${b.size}`);
    }
  };
  for (const img of images) await visit(img, 0);
  return { images, manifests: done.size, errors, notes };
}

export interface Recorded {
  readonly tags: number;
  readonly lines: readonly string[];
  readonly warnings: readonly string[];
}

/** Tags of the bundle's images, written under every given accept-variant key. */
export function recordImages(config: Config, images: readonly Descriptor[], tags: TagIndex, accepts: readonly string[], upstreamFlag: string | undefined, now: number): Recorded {
  const lines: string[] = [];
  const warnings: string[] = [];
  let n = 0;
  for (const img of images) {
    const full = img.annotations?.[IMAGE_NAME];
    const refName = img.annotations?.[REF_NAME];
    const name = full ?? (refName !== undefined && refName.includes('/') ? refName : undefined);
    if (name === undefined) {
      warnings.push(`${img.digest.value}: no image name in the bundle (${IMAGE_NAME}); pull it by digest`);
      continue;
    }
    const parsed = parseImageRef(name);
    if (!parsed.ok) {
      warnings.push(`${img.digest.value}: ${parsed.error}`);
      continue;
    }
    const ref = parsed.ref;
    const host = upstreamFlag ?? (ref.host !== undefined ? upstreamOf(config, ref.host) : undefined);
    if (upstreamFlag === undefined && ref.host !== undefined && host === undefined) warnings.push(`${name}: ${ref.host} is not a configured upstream; recorded under ${config.defaultUpstream}`);
    const where = resolveImage(config, host ?? config.defaultUpstream, ref.name);
    if (typeof where === 'string') {
      warnings.push(`${name}: ${where}`);
      continue;
    }
    const tag = refName !== undefined && !refName.includes('/') && !refName.includes(':') ? refName : ref.tag;
    if (ref.digest !== undefined || tag === undefined) {
      lines.push(`${where.upstream}/${where.repository}@${img.digest.value}`);
      continue;
    }
    const entry = { digest: img.digest.value, mediaType: img.mediaType, size: img.size, fetchedAt: now };
    for (const accept of accepts) tags.set({ upstream: where.upstream, repository: where.repository, tag, accept }, entry);
    n++;
    lines.push(`${where.upstream}/${where.repository}:${tag} ${img.digest.value}`);
  }
  return { tags: n, lines, warnings };
}
