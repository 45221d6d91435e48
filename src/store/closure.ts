/** Everything a manifest needs, transitively: child manifests, configs and layers. */
import { manifestRefs } from '../oci/manifest-refs.js';

export type ManifestReader = (digest: string) => Promise<Uint8Array | undefined>;

/**
 * The digests reachable from `roots` (roots included). Manifests that are not stored are
 * still listed (they are referenced), but nothing below them can be.
 */
export async function closureOf(roots: Iterable<string>, read: ManifestReader, maxDepth = 4): Promise<Set<string>> {
  const out = new Set<string>();
  let level = [...roots];
  for (let depth = 0; depth <= maxDepth && level.length > 0; depth++) {
    const next: string[] = [];
    for (const digest of level) {
      if (out.has(digest)) continue;
      out.add(digest);
      const bytes = await read(digest);
      if (!bytes) continue;
      const refs = manifestRefs(bytes);
      for (const b of refs.blobs) out.add(b.digest);
      for (const c of refs.children) if (!out.has(c.digest)) next.push(c.digest);
    }
    level = next;
  }
  return out;
}
