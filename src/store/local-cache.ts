/**
 * A bounded local disk cache in front of a remote BlobStore (object storage). Hot blobs are
 * served from local disk; a miss streams from the remote while a copy is written locally and
 * committed only if its digest verifies. A fill on this node keeps its spool file as the local
 * copy (adopt). The least recently used local copies are deleted above maxSize; the remote
 * copy stays. Ranged misses are read from the remote and not cached.
 */
import { rename, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import { LRUCache } from 'lru-cache';
import { parseDigest, type Digest } from '../oci/digest.js';
import type { BeginOptions, BlobInfo, BlobStore, BlobWriter, ByteRange, StoredBlob } from './blob-store.js';
import type { FsBlobStore } from './fs-blob-store.js';
import type { Layout } from './paths.js';

export interface LocalCacheEvents {
  hit(): void;
  miss(): void;
}

/** Passes remote bytes to the client and into a local writer; a failed local write only stops caching. */
class CopyToLocal extends Transform {
  private writer: BlobWriter | undefined;
  private position = 0;

  constructor(
    writer: BlobWriter,
    private readonly onCommitted: () => void,
  ) {
    super();
    this.writer = writer;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    const w = this.writer;
    if (!w) return cb(null, chunk);
    const at = this.position;
    this.position += chunk.length;
    w.writeAt(at, [chunk]).then(
      () => cb(null, chunk),
      () => {
        this.writer = undefined;
        void w.abort().catch(() => undefined);
        cb(null, chunk);
      },
    );
  }

  override _flush(cb: TransformCallback): void {
    const w = this.writer;
    this.writer = undefined;
    if (!w) return cb();
    w.commit().then(
      () => {
        this.onCommitted();
        cb();
      },
      // A wrong remote body: the local copy is dropped and the client's stream fails.
      (err: Error) => cb(err),
    );
  }

  override _destroy(err: Error | null, cb: (error?: Error | null) => void): void {
    const w = this.writer;
    this.writer = undefined;
    if (w) void w.abort().catch(() => undefined);
    cb(err);
  }
}

export class LocalBlobCache implements BlobStore {
  private readonly lru: LRUCache<string, number>;

  constructor(
    private readonly remote: BlobStore & { readonly layout: Layout; init(): Promise<void>; close(): Promise<void> },
    private readonly local: FsBlobStore,
    maxSize: number,
    private readonly events: LocalCacheEvents = { hit: () => undefined, miss: () => undefined },
  ) {
    this.lru = new LRUCache<string, number>({
      maxSize,
      sizeCalculation: (n) => Math.max(1, n),
      dispose: (_size, digest, reason) => {
        if (reason === 'set') return;
        const d = parseDigest(digest);
        if (d) void local.remove(d).catch(() => undefined);
      },
    });
  }

  get layout(): Layout {
    return this.remote.layout;
  }

  /** Loads what is already on local disk, oldest access first so recency is kept. */
  async init(): Promise<void> {
    await this.remote.init();
    await this.local.init();
    const found: StoredBlob[] = [];
    for await (const b of this.local.list()) found.push(b);
    found.sort((a, b) => a.atimeMs - b.atimeMs);
    for (const b of found) this.track(b.digest, b.size);
  }

  async close(): Promise<void> {
    await this.remote.close();
  }

  /** The remote writer's verified spool file becomes the local copy (same filesystem: a rename). */
  readonly adopt = async (digest: Digest, path: string, size: number): Promise<boolean> => {
    const dest = this.local.pathOf(digest);
    await mkdir(dirname(dest), { recursive: true });
    await rename(path, dest);
    this.track(digest.value, size);
    return true;
  };

  async stat(digest: Digest): Promise<BlobInfo | undefined> {
    if (this.lru.has(digest.value)) {
      const local = await this.local.stat(digest);
      if (local) return local;
      this.lru.delete(digest.value);
    }
    return this.remote.stat(digest);
  }

  async open(digest: Digest, range?: ByteRange): Promise<Readable | undefined> {
    if (this.lru.get(digest.value) !== undefined) {
      const local = await this.local.open(digest, range);
      if (local) {
        this.events.hit();
        return local;
      }
      this.lru.delete(digest.value);
    }
    this.events.miss();
    if (range) return this.remote.open(digest, range);
    const info = await this.remote.stat(digest);
    const body = info ? await this.remote.open(digest) : undefined;
    if (!info || !body) return body;
    if (info.size > this.lru.maxSize) return body;
    const writer = await this.local.begin(digest, info.size).catch(() => undefined);
    if (!writer) return body;
    const copy = new CopyToLocal(writer, () => this.track(digest.value, info.size));
    body.on('error', (err) => copy.destroy(err));
    copy.on('close', () => body.destroy());
    return body.pipe(copy);
  }

  async readAll(digest: Digest): Promise<Buffer | undefined> {
    return (await this.local.readAll(digest)) ?? this.remote.readAll(digest);
  }

  begin(expected: Digest, expectedSize?: number, opts?: BeginOptions): Promise<BlobWriter> {
    return this.remote.begin(expected, expectedSize, opts);
  }

  async put(expected: Digest, bytes: Uint8Array): Promise<void> {
    await this.remote.put(expected, bytes);
  }

  async remove(digest: Digest): Promise<void> {
    this.lru.delete(digest.value);
    await this.local.remove(digest);
    await this.remote.remove(digest);
  }

  list(): AsyncIterable<StoredBlob> {
    return this.remote.list();
  }

  async sweep(): Promise<number> {
    return (await this.local.sweep()) + (await this.remote.sweep());
  }

  private track(digest: string, size: number): void {
    if (size > this.lru.maxSize) {
      const d = parseDigest(digest);
      if (d) void this.local.remove(d).catch(() => undefined);
      return;
    }
    this.lru.set(digest, size);
  }
}
