/**
 * Which stored digests someone is reading right now. Readers hold a lease for as long as their
 * stream is open; eviction skips leased digests. One registry per store, passed in.
 */
import type { Readable } from 'node:stream';

export type Release = () => void;

export class InUse {
  private readonly counts = new Map<string, number>();

  /** `changed` hears when a digest becomes held (true) and no longer held (false). */
  constructor(private readonly changed?: (digest: string, inUse: boolean) => void) {}

  /** Takes a lease; the returned function releases it (calling it twice is harmless). */
  hold(digest: string): Release {
    const before = this.counts.get(digest) ?? 0;
    this.counts.set(digest, before + 1);
    if (before === 0) this.changed?.(digest, true);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const n = (this.counts.get(digest) ?? 1) - 1;
      if (n <= 0) {
        this.counts.delete(digest);
        this.changed?.(digest, false);
      } else this.counts.set(digest, n);
    };
  }

  /** Holds a lease until the stream closes (ends, fails or is destroyed). */
  track<S extends Readable>(digest: string, stream: S): S {
    const release = this.hold(digest);
    if (stream.closed || stream.destroyed) release();
    else stream.once('close', release);
    return stream;
  }

  has(digest: string): boolean {
    return this.counts.has(digest);
  }

  get size(): number {
    return this.counts.size;
  }
}
