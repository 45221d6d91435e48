/** Everything a manifest needs, transitively: child manifests, configs and layers. */
import type { Digest } from '../oci/digest.js';
import { manifestRefs } from '../oci/manifest-refs.js';

export type ManifestReader = (digest: Digest) => Promise<Uint8Array | undefined>;

/**
 * The digests reachable from `roots` (roots included), as `algorithm:hex` keys. Manifests that
 * are not stored are still listed (they are referenced), but nothing below them can be.
 */
export async function closureOf(roots: Iterable<Digest>, read: ManifestReader, maxDepth = 4): Promise<Set<string>> {
  const out = new Set<string>();
  let level = [...roots];
  for (let depth = 0; depth <= maxDepth && level.length > 0; depth++) {
    const next: Digest[] = [];
    for (const digest of level) {
      if (out.has(digest.value)) continue;
      out.add(digest.value);
      const bytes = await read(digest);
      if (!bytes) continue;
      const refs = manifestRefs(bytes);
      for (const b of refs.blobs) out.add(b.digest.value);
      for (const c of refs.children) if (!out.has(c.digest.value)) next.push(c.digest);
    }
    level = next;
  }
  return out;
}
