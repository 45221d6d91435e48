/**
 * Pull-through blobs: the local store first, else a shared fill from the route's upstream.
 * Handlers get a size and a reader and never learn where the bytes come from.
 */
import type { Readable } from 'node:stream';
import type { Digest } from '../oci/digest.js';
import type { BlobStore, ByteRange } from '../store/blob-store.js';
import type { Outcome, Upstream } from '../upstream/types.js';
import type { InUse } from '../store/in-use.js';
import type { Fill } from './fill.js';
import type { Fills } from './fills.js';
import { passThrough } from './pass-through.js';
import { TailReader } from './tail-reader.js';

export type CacheStatus = 'HIT' | 'MISS' | 'COALESCED' | 'STALE';

export interface BlobSource {
  readonly size: number;
  readonly cache: CacheStatus;
  /** Opens the bytes (or a range of them); call once, only for GET. */
  open(range?: ByteRange): Promise<Readable>;
  /** Releases what the source holds when it will not be opened (an unsatisfiable range). */
  discard?(): void;
}

export type BlobOutcome = Outcome<BlobSource>;

export class PullThroughBlobs {
  constructor(
    private readonly store: BlobStore,
    private readonly fills: Fills,
    private readonly onCache: (result: 'hit' | 'miss' | 'coalesced') => void = () => undefined,
    /** Readers of a fill's file hold their digest here, so eviction leaves it alone. */
    private readonly inUse?: InUse,
  ) {}

  /** HEAD: metadata only, no fill is started. */
  async head(upstream: Upstream, repository: string, digest: Digest): Promise<Outcome<{ size: number; cache: CacheStatus }>> {
    const local = await this.store.stat(digest);
    if (local) return { kind: 'found', value: { size: local.size, cache: 'HIT' } };
    const fill = this.fills.get(digest.value);
    if (fill && fill.size >= 0) return { kind: 'found', value: { size: fill.size, cache: 'COALESCED' } };
    const remote = await upstream.statBlob(repository, digest.value);
    if (remote.kind !== 'found') return remote;
    return { kind: 'found', value: { size: remote.value.size, cache: 'MISS' } };
  }

  async get(upstream: Upstream, repository: string, digest: Digest): Promise<BlobOutcome> {
    const local = await this.store.stat(digest);
    if (local) {
      this.onCache('hit');
      return {
        kind: 'found',
        value: {
          size: local.size,
          cache: 'HIT',
          open: async (range) => (await this.store.open(digest, range)) ?? this.refill(upstream, repository, digest, range ?? { start: 0, end: local.size - 1 }),
        },
      };
    }
    const { fill, joined } = this.fills.join(upstream, repository, digest);
    const ready = await fill.ready;
    // A store that cannot take the blob (full, read-only) must not stop the client's pull.
    if (!('size' in ready)) return ready.kind === 'store-unavailable' ? passThrough(upstream, repository, digest) : ready;
    this.onCache(joined ? 'coalesced' : 'miss');
    const size = ready.size >= 0 ? ready.size : Number.MAX_SAFE_INTEGER;
    return {
      kind: 'found',
      value: {
        size: ready.size,
        cache: joined ? 'COALESCED' : 'MISS',
        open: async (range) => this.tail(fill, range ?? { start: 0, end: size - 1 }),
      },
    };
  }

  /** Evicted between stat and open: the same digest is the same bytes, so fill it again. */
  private async refill(upstream: Upstream, repository: string, digest: Digest, range: ByteRange): Promise<Readable> {
    const { fill } = this.fills.join(upstream, repository, digest);
    const ready = await fill.ready;
    if (!('size' in ready)) throw new Error('blob disappeared between stat and open and could not be filled again');
    return this.tail(fill, range);
  }

  private tail(fill: Fill, range: ByteRange): Readable {
    const reader = new TailReader(fill, this.store, range);
    return this.inUse ? this.inUse.track(fill.digest.value, reader) : reader;
  }
}
