/**
 * Builds the configured blob store: the local disk (default), or S3-compatible object storage,
 * optionally behind a bounded local disk cache. The AWS SDK is imported only when object
 * storage is configured, so a single-node daemon never loads it.
 */
import type { Config } from '../config/types.js';
import type { BlobStore } from './blob-store.js';
import { FsBlobStore, type StoreHooks } from './fs-blob-store.js';
import type { Layout } from './paths.js';

/** A blob store with a local directory for spool files, manifest media types and state. */
export type NodeBlobStore = BlobStore & {
  readonly layout: Layout;
  /** Committed-blob streams open on the local disk (FsBlobStore's read budget); absent for object storage. */
  readonly readers?: number;
  init(): Promise<void>;
  close?(): Promise<void>;
};

export interface OpenStoreEvents extends StoreHooks {
  /** An object-storage request failed for another reason than "not found". */
  remoteError(op: string, err: unknown): void;
  localCache(result: 'hit' | 'miss'): void;
}

export async function openBlobStore(storage: Config['storage'], events: OpenStoreEvents): Promise<NodeBlobStore> {
  const hooks: StoreHooks = { committed: events.committed, removed: events.removed };
  if (storage.backend !== 's3' || storage.s3 === undefined) return new FsBlobStore(storage.path, storage.fsync, hooks);
  const s3cfg = storage.s3;
  const [{ createS3Client, ensureBucket }, { S3BlobStore }, { LocalBlobCache }] = await Promise.all([
    import('./s3-client.js'),
    import('./s3-blob-store.js'),
    import('./local-cache.js'),
  ]);
  const client = createS3Client(s3cfg);
  await ensureBucket(client, s3cfg.bucket);
  let cache: InstanceType<typeof LocalBlobCache> | undefined;
  const remote = new S3BlobStore({
    client,
    bucket: s3cfg.bucket,
    prefix: s3cfg.prefix,
    localRoot: storage.path,
    partSize: s3cfg.partSize,
    queueSize: s3cfg.queueSize,
    staleUploadMs: s3cfg.staleUploadsMs,
    hooks,
    adopt: (digest, path, size) => (cache ? cache.adopt(digest, path, size) : Promise.resolve(false)),
    onError: events.remoteError,
  });
  if (!storage.localCache) return remote;
  const local = new FsBlobStore(storage.localCache.path, false);
  cache = new LocalBlobCache(remote, local, storage.localCache.maxSize, { hit: () => events.localCache('hit'), miss: () => events.localCache('miss') });
  return cache;
}
