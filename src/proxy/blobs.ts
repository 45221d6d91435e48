/**
 * Pull-through blobs: the local store first, else a shared fill from the route's upstream.
 * Handlers get a size and a reader and never learn where the bytes come from.
 */
import type { Readable } from 'node:stream';
import type { Digest } from '../oci/digest.js';
import type { BlobStore, ByteRange } from '../store/blob-store.js';
import type { Outcome, Upstream } from '../upstream/types.js';
import type { FillRefusal } from './fill.js';
import type { Fills } from './fills.js';
import { TailReader } from './tail-reader.js';

export type CacheStatus = 'HIT' | 'MISS' | 'COALESCED' | 'STALE';

export interface BlobSource {
  readonly size: number;
  readonly cache: CacheStatus;
  /** Opens the bytes (or a range of them); call once, only for GET. */
  open(range?: ByteRange): Promise<Readable>;
}

export type BlobOutcome = Outcome<BlobSource> | Extract<FillRefusal, { kind: 'store-unavailable' }>;

export class PullThroughBlobs {
  constructor(
    private readonly store: BlobStore,
    private readonly fills: Fills,
    private readonly onCache: (result: 'hit' | 'miss' | 'coalesced') => void = () => undefined,
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
        value: { size: local.size, cache: 'HIT', open: async (range) => (await this.store.open(digest, range)) ?? this.gone() },
      };
    }
    const { fill, joined } = this.fills.join(upstream, repository, digest);
    const ready = await fill.ready;
    if (!('size' in ready)) return ready;
    this.onCache(joined ? 'coalesced' : 'miss');
    const size = ready.size >= 0 ? ready.size : Number.MAX_SAFE_INTEGER;
    return {
      kind: 'found',
      value: {
        size: ready.size,
        cache: joined ? 'COALESCED' : 'MISS',
        open: async (range) => new TailReader(fill, this.store, range ?? { start: 0, end: size - 1 }),
      },
    };
  }

  private gone(): never {
    throw new Error('blob disappeared between stat and open');
  }
}
