/**
 * A BlobStore in front of another that enforces the size cap and tracks use: a write reserves
 * room (evicting first when needed) before its first byte, an open stream holds a lease on
 * its digest until it closes, and every open counts as a use for the LRU order.
 */
import type { Readable } from 'node:stream';
import type { Digest } from '../../oci/digest.js';
import type { BeginOptions, BlobInfo, BlobStore, BlobWriter, ByteRange, PartialReader, StoredBlob } from '../blob-store.js';
import type { InUse, Release } from './in-use.js';

class ReservedWriter implements BlobWriter {
  constructor(
    private readonly inner: BlobWriter,
    private readonly release: Release,
  ) {}

  get spoolName(): string | undefined {
    return this.inner.spoolName;
  }

  writeAt(position: number, chunks: readonly Buffer[]): Promise<number> {
    return this.inner.writeAt(position, chunks);
  }

  openPartial(): Promise<PartialReader | undefined> {
    return this.inner.openPartial();
  }

  verify(): Promise<void> {
    return this.inner.verify();
  }

  async commit(): Promise<void> {
    try {
      await this.inner.commit();
    } finally {
      this.release();
    }
  }

  async abort(): Promise<void> {
    try {
      await this.inner.abort();
    } finally {
      this.release();
    }
  }
}

/** Makes room for a write before it begins (the Evictor, or the primary's over IPC). */
export interface Reserver {
  reserve(bytes: number): Promise<Release>;
}

export class CappedStore implements BlobStore {
  constructor(
    private readonly inner: BlobStore,
    private readonly evictor: Reserver,
    private readonly inUse: InUse,
    private readonly used: (digest: string) => void,
  ) {}

  stat(digest: Digest): Promise<BlobInfo | undefined> {
    return this.inner.stat(digest);
  }

  async open(digest: Digest, range?: ByteRange): Promise<Readable | undefined> {
    const release = this.inUse.hold(digest.value);
    try {
      const stream = await this.inner.open(digest, range);
      if (!stream) return undefined;
      this.used(digest.value);
      return this.inUse.track(digest.value, stream);
    } finally {
      release();
    }
  }

  async begin(expected: Digest, expectedSize?: number, opts?: BeginOptions): Promise<BlobWriter> {
    const release = await this.evictor.reserve(expectedSize ?? 0);
    try {
      return new ReservedWriter(await this.inner.begin(expected, expectedSize, opts), release);
    } catch (err) {
      release();
      throw err;
    }
  }

  put(expected: Digest, bytes: Uint8Array): Promise<void> {
    return this.inner.put(expected, bytes);
  }

  readAll(digest: Digest): Promise<Buffer | undefined> {
    return this.inner.readAll(digest);
  }

  remove(digest: Digest): Promise<void> {
    return this.inner.remove(digest);
  }

  list(): AsyncIterable<StoredBlob> {
    return this.inner.list();
  }

  sweep(): Promise<number> {
    return this.inner.sweep();
  }

  follow(spool: string): Promise<PartialReader | undefined> {
    return this.inner.follow?.(spool) ?? Promise.resolve(undefined);
  }
}
