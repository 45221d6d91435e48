/** Manifests: byte-exact content in the blob store plus their media type, with a hot in-memory copy. */
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { dirname, join } from 'node:path';
import { LRUCache } from 'lru-cache';
import { sniffManifestType } from '../oci/media-types.js';
import type { Digest } from '../oci/digest.js';
import type { BlobStore } from './blob-store.js';
import { metaPath, type Layout } from './paths.js';

export interface StoredManifest {
  readonly bytes: Buffer;
  readonly mediaType: string;
  readonly digest: Digest;
}

const DEFAULT_TYPE = 'application/vnd.oci.image.manifest.v1+json';

export class ManifestStore {
  private readonly hot: LRUCache<string, StoredManifest>;

  constructor(
    private readonly blobs: BlobStore,
    private readonly layout: Layout,
    hotBytes = 64 * 1024 * 1024,
    /** Called for every manifest served from here (the LRU order of the size cap). */
    private readonly used: (digest: string) => void = () => undefined,
  ) {
    this.hot = new LRUCache<string, StoredManifest>({ maxSize: hotBytes, sizeCalculation: (m) => m.bytes.length + 200 });
  }

  async get(digest: Digest): Promise<StoredManifest | undefined> {
    const cached = this.hot.get(digest.value);
    if (cached) {
      this.used(digest.value);
      return cached;
    }
    const bytes = await this.blobs.readAll(digest);
    if (!bytes) return undefined;
    this.used(digest.value);
    const recorded = await readFile(metaPath(this.layout, digest), 'utf8').catch(() => undefined);
    const mediaType = recorded?.trim() || sniffManifestType(bytes) || DEFAULT_TYPE;
    const m = { bytes, mediaType, digest };
    this.hot.set(digest.value, m);
    return m;
  }

  /** Verifies the bytes against the digest; the type is recorded before the content becomes visible. */
  async put(digest: Digest, bytes: Buffer, mediaType: string): Promise<StoredManifest> {
    const path = metaPath(this.layout, digest);
    await mkdir(dirname(path), { recursive: true });
    const tmp = join(this.layout.tmp, `meta-${randomBytes(6).toString('hex')}`);
    try {
      await writeFile(tmp, mediaType);
      await rename(tmp, path);
    } catch (err) {
      // A full disk leaves a partial file behind; it must not outlive the failed write.
      await rm(tmp, { force: true }).catch(() => undefined);
      throw err;
    }
    await this.blobs.put(digest, bytes);
    const m = { bytes, mediaType, digest };
    this.hot.set(digest.value, m);
    return m;
  }

  forget(digest: Digest): void {
    this.hot.delete(digest.value);
  }

  /** Removes stored content (a manifest or any blob) with its media-type record and hot copy. */
  async remove(digest: Digest): Promise<void> {
    this.hot.delete(digest.value);
    await this.blobs.remove(digest);
    await rm(metaPath(this.layout, digest), { force: true });
  }
}
