/** On-disk layout. Only validated digests become paths, always below the data dir. */
import { join } from 'node:path';
import type { Digest } from '../oci/digest.js';

export interface Layout {
  readonly root: string;
  readonly blobs: string;
  readonly tmp: string;
  readonly meta: string;
  readonly state: string;
}

export function layoutOf(root: string): Layout {
  return { root, blobs: join(root, 'blobs'), tmp: join(root, 'tmp'), meta: join(root, 'meta'), state: join(root, 'state') };
}

export function blobPath(layout: Layout, d: Digest): string {
  return join(layout.blobs, d.algorithm, d.hex.slice(0, 2), d.hex);
}

export function metaPath(layout: Layout, d: Digest): string {
  return join(layout.meta, d.algorithm, d.hex.slice(0, 2), d.hex);
}
