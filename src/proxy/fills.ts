/** Single-flight blob fills keyed by digest: one upstream fetch, however many clients ask. */
import type { Digest } from '../oci/digest.js';
import type { BlobStore } from '../store/blob-store.js';
import type { Upstream } from '../upstream/types.js';
import { Fill, type FillOptions } from './fill.js';

export interface FillEvents {
  started(): void;
  finished(result: 'committed' | 'failed' | 'uncached'): void;
  bytes(upstream: string, n: number): void;
  resumed(): void;
  /** The store refused or failed a write (disk full, read-only). */
  storeError?(cause: string): void;
}

export interface FillProgress {
  readonly digest: string;
  readonly written: number;
  readonly size: number;
}

/** Free bytes on the store's disk beyond what a caller asks for. */
export interface SpaceCheck {
  fits(bytes: number): Promise<boolean>;
}

export class Fills {
  private readonly running = new Map<string, Fill>();

  constructor(
    private readonly store: BlobStore,
    private readonly opts: FillOptions,
    private readonly events: FillEvents,
    private readonly space?: SpaceCheck,
  ) {}

  /** The running fill for a digest, or a new one. `joined` is true when it was already running. */
  join(upstream: Upstream, repository: string, digest: Digest): { fill: Fill; joined: boolean } {
    const existing = this.running.get(digest.value);
    if (existing) return { fill: existing, joined: true };
    const space = this.space;
    // Bytes that running fills are still going to write are as good as used.
    const opts = space ? { ...this.opts, room: (bytes: number) => space.fits(bytes + this.pending()) } : this.opts;
    const fill = new Fill(digest, repository, upstream, this.store, opts, {
      onBytes: (n) => this.events.bytes(upstream.name, n),
      onResume: () => this.events.resumed(),
      onStoreError: (cause) => this.events.storeError?.(cause),
    });
    this.running.set(digest.value, fill);
    this.events.started();
    void fill.done.finally(() => {
      this.running.delete(digest.value);
      this.events.finished(fill.state === 'committed' ? 'committed' : fill.storeRefused ? 'uncached' : 'failed');
    });
    return { fill, joined: false };
  }

  private pending(): number {
    let n = 0;
    for (const f of this.running.values()) if (f.state === 'running' && f.size > f.written) n += f.size - f.written;
    return n;
  }

  /** Running fills, read-only (status page): bytes written so far against the size (-1 until known). */
  list(): FillProgress[] {
    return [...this.running.values()].map((f) => ({ digest: f.digest.value, written: f.written, size: f.size }));
  }

  get(digest: string): Fill | undefined {
    return this.running.get(digest);
  }

  get size(): number {
    return this.running.size;
  }

  /** Resolves when every running fill has ended (graceful shutdown, tests). */
  async idle(): Promise<void> {
    await Promise.all([...this.running.values()].map((f) => f.done));
  }

  inUse(digest: string): boolean {
    return this.running.has(digest);
  }
}
