/**
 * The size cap's parts for one store, built together: who is reading what (InUse), the LRU
 * order with its persisted record (Recency), and the Evictor. The store's commit and remove
 * hooks report here; `wrap` puts the cap in front of the store.
 */
import { parseDigest, type Digest } from '../oci/digest.js';
import type { BlobStore, StoredBlob } from './blob-store.js';
import { CappedStore } from './capped-store.js';
import { Evictor, type EvictionPolicy, type EvictionResult } from './eviction.js';
import { InUse } from './in-use.js';
import { RecencyLog } from './recency-log.js';
import { Recency, type RecencyLoadReport } from './recency.js';

export interface SizeCapDeps {
  /** A fill is writing the digest. */
  readonly filling: (digest: string) => boolean;
  readonly protectedDigests: () => Promise<ReadonlySet<string>>;
  /** Removes content with its metadata (ManifestStore.remove). */
  readonly remove: (digest: Digest) => Promise<void>;
  readonly evicted?: (digest: string, size: number) => void;
  readonly blocked?: (bytes: number, target: number) => void;
}

export interface SizeCapOptions {
  /** CLI tools next to a running daemon read the record and never write it. */
  readonly readOnly?: boolean;
  readonly flushMs?: number;
}

export class SizeCap {
  readonly inUse = new InUse();
  readonly recency: Recency;
  readonly evictor: Evictor;

  constructor(stateDir: string, policy: EvictionPolicy, deps: SizeCapDeps, opts: SizeCapOptions = {}) {
    this.recency = new Recency(new RecencyLog(stateDir, opts.readOnly ?? false), opts.flushMs !== undefined ? { flushMs: opts.flushMs } : {});
    this.evictor = new Evictor(policy, {
      recency: this.recency,
      inUse: (d) => this.inUse.has(d) || deps.filling(d),
      protectedDigests: deps.protectedDigests,
      remove: async (d) => {
        const digest = parseDigest(d);
        if (digest) await deps.remove(digest);
      },
      ...(deps.evicted ? { evicted: deps.evicted } : {}),
      ...(deps.blocked ? { blocked: deps.blocked } : {}),
    });
  }

  load(stored: AsyncIterable<StoredBlob>): Promise<RecencyLoadReport> {
    return this.recency.load(stored);
  }

  /** Store hook: content became visible. */
  committed(digest: string, size: number): void {
    this.recency.add(digest, size);
    this.evictor.kick();
  }

  /** Store hook: content was removed (by eviction or anyone else). */
  removed(digest: string): void {
    this.recency.delete(digest);
  }

  /** Content was served. */
  used(digest: string): void {
    this.recency.touch(digest);
  }

  wrap(store: BlobStore): CappedStore {
    return new CappedStore(store, this.evictor, this.inUse, (d) => this.used(d));
  }

  /** One eviction pass now (gc, tests). */
  enforce(): Promise<EvictionResult> {
    return this.evictor.run();
  }

  /** Resolves when no eviction pass is running or queued. */
  settled(): Promise<void> {
    return this.evictor.idle();
  }

  async close(): Promise<void> {
    await this.evictor.idle();
    await this.recency.close();
  }
}
