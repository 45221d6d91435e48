/** The OCI image layout (image-spec `image-layout.md`) as air-gap bundles use it. */
import type { Digest } from './digest.js';

export const OCI_LAYOUT_FILE = 'oci-layout';
export const OCI_LAYOUT_VERSION = '1.0.0';
export const INDEX_FILE = 'index.json';
/** The tag, which `skopeo … oci-archive:FILE:<ref>` selects by. */
export const REF_NAME = 'org.opencontainers.image.ref.name';
/** The full image name, as containerd's exports write it (`ctr import` reads it too). */
export const IMAGE_NAME = 'io.containerd.image.name';

/** `blobs/<alg>/<hex>` for a digest. */
export function blobEntryName(digest: Digest): string {
  return `blobs/${digest.algorithm}/${digest.hex}`;
}

/** The digest a tar entry named `blobs/<alg>/<hex>` (optionally `./`-prefixed) holds. */
export function digestOfEntry(name: string): string | undefined {
  const m = /^(?:\.\/)?blobs\/([a-z0-9]+)\/([a-f0-9]+)$/.exec(name);
  return m ? `${m[1]}:${m[2]}` : undefined;
}

/** An entry name without a leading `./`. */
export function plainEntryName(name: string): string {
  return name.replace(/^\.\//, '');
}
