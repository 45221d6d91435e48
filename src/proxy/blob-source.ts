/** What a handler gets for a blob: its size, where it came from, and a way to open its bytes. */
import type { Readable } from 'node:stream';
import type { ByteRange } from '../store/blob-store.js';
import type { Outcome } from '../upstream/types.js';

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
