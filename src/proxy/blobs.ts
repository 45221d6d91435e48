/**
 * Pull-through blobs: the same shape as the store it wraps (stat, open), over the local store
 * first, else a shared fill from the route's upstream. Handlers get a size and a reader and
 * never learn where the bytes come from.
 */
import type { Readable } from 'node:stream';
import type { Digest } from '../oci/digest.js';
import type { BlobStore, ByteRange } from '../store/blob-store.js';
import type { Outcome, Upstream } from '../upstream/types.js';
import type { Fills } from './fill/fills.js';
import type { BlobOutcome, CacheStatus } from './blob-source.js';
import { passThrough } from './pass-through.js';

export type { BlobOutcome, BlobSource, CacheStatus } from './blob-source.js';

export class PullThroughBlobs {
  constructor(
    private readonly store: BlobStore,
    private readonly fills: Fills,
    private readonly onCache: (result: 'hit' | 'miss' | 'coalesced') => void = () => undefined,
  ) {}

  /** HEAD: metadata only, no fill is started. */
  async stat(upstream: Upstream, repository: string, digest: Digest): Promise<Outcome<{ size: number; cache: CacheStatus }>> {
    const local = await this.store.stat(digest);
    if (local) return { kind: 'found', value: { size: local.size, cache: 'HIT' } };
    const filling = this.fills.sizeOf(digest);
    if (filling !== undefined) return { kind: 'found', value: { size: filling, cache: 'COALESCED' } };
    const remote = await upstream.statBlob(repository, digest.value);
    if (remote.kind !== 'found') return remote;
    return { kind: 'found', value: { size: remote.value.size, cache: 'MISS' } };
  }

  async open(upstream: Upstream, repository: string, digest: Digest): Promise<BlobOutcome> {
    const local = await this.store.stat(digest);
    if (local) {
      this.onCache('hit');
      const whole = { start: 0, end: local.size - 1 };
      return {
        kind: 'found',
        value: {
          size: local.size,
          cache: 'HIT',
          // Evicted between stat and open: the same digest is the same bytes, so fill it again.
          open: async (range) => (await this.store.open(digest, range)) ?? this.follow(upstream, repository, digest, range ?? whole),
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
      value: { size: ready.size, cache: joined ? 'COALESCED' : 'MISS', open: (range) => fill.reader(range ?? { start: 0, end: size - 1 }) },
    };
  }

  private async follow(upstream: Upstream, repository: string, digest: Digest, range: ByteRange): Promise<Readable> {
    const { fill } = this.fills.join(upstream, repository, digest);
    const ready = await fill.ready;
    if (!('size' in ready)) throw new Error('blob disappeared between stat and open and could not be filled again');
    return fill.reader(range);
  }
}
