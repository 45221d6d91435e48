/** BlobStore on a local filesystem: temp file → hash while writing → fsync → rename. */
import { mkdir, open, readdir, readFile, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { parseDigest, type Digest } from '../oci/digest.js';
import { type BlobInfo, type BlobStore, type BlobWriter, type ByteRange, type PartialReader, type StoredBlob } from './blob-store.js';
import { blobPath, layoutOf, type Layout } from './paths.js';
import { FileBody } from './file-body.js';
import { ReadPool } from './read-pool.js';
import { Spool } from './spool.js';

/**
 * Serving reads reuse pooled buffers (see ReadPool): 32 MiB per process, 1 MiB reads for up to
 * 16 clients at once, smaller ones (down to 64 KiB) for more.
 */
const READ_BUDGET = 32 * 1024 * 1024;
const READ_SIZES = [1024 * 1024, 256 * 1024, 64 * 1024];

async function fsyncDir(dir: string): Promise<void> {
  const h = await open(dir, 'r');
  try {
    await h.sync();
  } finally {
    await h.close();
  }
}

class FsBlobWriter implements BlobWriter {
  constructor(
    private readonly store: FsBlobStore,
    private readonly spool: Spool,
    private readonly expected: Digest,
  ) {}

  get spoolName(): string {
    return basename(this.spool.tempPath);
  }

  writeAt(position: number, chunks: readonly Buffer[]): Promise<number> {
    return this.spool.writeAt(position, chunks);
  }

  openPartial(): Promise<PartialReader | undefined> {
    return this.spool.openReader();
  }

  verify(): Promise<void> {
    return this.spool.verify();
  }

  async commit(): Promise<void> {
    await this.verify();
    if (this.store.fsync) await this.spool.datasync();
    await this.spool.close();
    const dest = blobPath(this.store.layout, this.expected);
    await mkdir(dirname(dest), { recursive: true });
    await rename(this.spool.tempPath, dest);
    if (this.store.fsync) await fsyncDir(dirname(dest));
    this.store.hooks.committed(this.spool.bytes, this.expected.value);
  }

  async abort(): Promise<void> {
    await this.spool.discard();
  }
}

export interface StoreHooks {
  committed(size: number, digest: string): void;
  removed(size: number, digest: string): void;
}

const NO_HOOKS: StoreHooks = { committed: () => undefined, removed: () => undefined };

export class FsBlobStore implements BlobStore {
  readonly layout: Layout;
  readonly readPool = new ReadPool(READ_BUDGET, READ_SIZES);

  constructor(
    root: string,
    readonly fsync: boolean,
    readonly hooks: StoreHooks = NO_HOOKS,
  ) {
    this.layout = layoutOf(root);
  }

  /** Committed-blob streams open now: the read budget is shared among them (tests check it returns to 0). */
  get readers(): number {
    return this.readPool.readers;
  }

  async init(): Promise<void> {
    for (const d of [this.layout.blobs, this.layout.tmp, this.layout.meta, this.layout.state]) await mkdir(d, { recursive: true });
  }

  async stat(digest: Digest): Promise<BlobInfo | undefined> {
    try {
      const s = await stat(blobPath(this.layout, digest));
      return { size: s.size };
    } catch {
      return undefined;
    }
  }

  /** The committed file's path, for readers that stream a file themselves. */
  pathOf(digest: Digest): string {
    return blobPath(this.layout, digest);
  }

  async open(digest: Digest, range?: ByteRange): Promise<Readable | undefined> {
    let fh: FileHandle;
    try {
      fh = await open(blobPath(this.layout, digest), 'r');
    } catch {
      return undefined;
    }
    try {
      const end = range ? range.end : (await fh.stat()).size - 1;
      return new FileBody(fh, range?.start ?? 0, end, this.readPool);
    } catch {
      await fh.close().catch(() => undefined);
      return undefined;
    }
  }

  /** Spool names are file names in this store's temp directory, nothing else. */
  follow(spool: string): Promise<PartialReader | undefined> {
    if (spool !== basename(spool) || spool.startsWith('.')) return Promise.resolve(undefined);
    return Spool.follow(join(this.layout.tmp, spool));
  }

  async begin(expected: Digest, expectedSize?: number): Promise<BlobWriter> {
    return new FsBlobWriter(this, await Spool.create(this.layout.tmp, expected, expectedSize), expected);
  }

  async put(expected: Digest, bytes: Uint8Array): Promise<void> {
    const w = await this.begin(expected, bytes.length);
    try {
      await w.writeAt(0, [Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)]);
      await w.commit();
    } catch (err) {
      // Also after a failed fsync or rename: no temp file outlives a failed put.
      await w.abort().catch(() => undefined);
      throw err;
    }
  }

  async readAll(digest: Digest): Promise<Buffer | undefined> {
    try {
      return await readFile(blobPath(this.layout, digest));
    } catch {
      return undefined;
    }
  }

  async remove(digest: Digest): Promise<void> {
    const path = blobPath(this.layout, digest);
    const s = await stat(path).catch(() => undefined);
    await rm(path, { force: true });
    if (s) this.hooks.removed(s.size, digest.value);
  }

  async *list(): AsyncIterable<StoredBlob> {
    for (const algorithm of await readdir(this.layout.blobs).catch(() => [] as string[])) {
      for (const prefix of await readdir(join(this.layout.blobs, algorithm)).catch(() => [] as string[])) {
        const dir = join(this.layout.blobs, algorithm, prefix);
        for (const hex of await readdir(dir).catch(() => [] as string[])) {
          const d = parseDigest(`${algorithm}:${hex}`);
          if (!d) continue;
          const s = await stat(join(dir, hex)).catch(() => undefined);
          if (s) yield { digest: d.value, size: s.size, atimeMs: s.atimeMs, mtimeMs: s.mtimeMs };
        }
      }
    }
  }

  async sweep(): Promise<number> {
    const names = await readdir(this.layout.tmp).catch(() => [] as string[]);
    await Promise.all(names.map((n) => rm(join(this.layout.tmp, n), { force: true, recursive: true })));
    return names.length;
  }
}
