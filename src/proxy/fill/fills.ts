/** Single-flight blob fills keyed by digest: one upstream fetch, however many clients ask. */
import type { Digest } from '../../oci/digest.js';
import type { BlobStore } from '../../store/blob-store.js';
import type { Upstream } from '../../upstream/types.js';
import { Fill, type FetchPolicy, type FillOptions, type FillResult, type FillStatus } from './fill.js';

export interface FillEvents {
  started(): void;
  finished(result: FillResult): void;
  bytes(upstream: string, n: number): void;
  connections(upstream: string, n: number): void;
  resumed(): void;
  /** The store refused or failed a write (disk full, read-only). */
  storeError(cause: string): void;
}

/** Free bytes on the store's disk beyond what a caller asks for. */
export interface SpaceCheck {
  fits(bytes: number): Promise<boolean>;
}

export class Fills {
  private readonly running = new Map<string, Fill>();
  private readonly stopping = new AbortController();
  private readonly opts: FillOptions;

  constructor(
    private readonly store: BlobStore,
    opts: FillOptions,
    private readonly events: FillEvents,
    /** Each upstream's fetch policy (connection cap, parallel ranges), by upstream name. */
    private readonly policies: (upstream: string) => FetchPolicy,
    private readonly space?: SpaceCheck,
  ) {
    this.opts = { ...opts, signal: this.stopping.signal };
  }

  /** The running fill for a digest, or a new one. `joined` is true when it was already running. */
  join(upstream: Upstream, repository: string, digest: Digest): { fill: Fill; joined: boolean } {
    const existing = this.running.get(digest.value);
    if (existing) return { fill: existing, joined: true };
    const space = this.space;
    // Bytes that running fills are still going to write are as good as used.
    const opts = space ? { ...this.opts, room: (bytes: number) => space.fits(bytes + this.pending()) } : this.opts;
    const fill = new Fill(digest, repository, upstream, this.store, opts, this.policies(upstream.name), {
      onBytes: (n) => this.events.bytes(upstream.name, n),
      onConnections: (n) => this.events.connections(upstream.name, n),
      onResume: () => this.events.resumed(),
      onStoreError: (cause) => this.events.storeError(cause),
    });
    this.running.set(digest.value, fill);
    this.events.started();
    void fill.done.then((result) => {
      this.running.delete(digest.value);
      this.events.finished(result);
    });
    return { fill, joined: false };
  }

  private pending(): number {
    let n = 0;
    for (const f of this.running.values()) n += f.pending();
    return n;
  }

  /** Running fills (status page): bytes written so far against the size (-1 until known). */
  list(): FillStatus[] {
    return [...this.running.values()].map((f) => f.status());
  }

  /** The running fill's size, once known (HEAD while a fill runs). */
  sizeOf(digest: Digest): number | undefined {
    const s = this.running.get(digest.value)?.status().size;
    return s !== undefined && s >= 0 ? s : undefined;
  }

  /** The running fill of a digest (a peer node follows it). */
  find(digest: Digest): Fill | undefined {
    return this.running.get(digest.value);
  }

  /** Whether a fill is writing this digest: eviction leaves it alone. */
  has(digest: string): boolean {
    return this.running.has(digest);
  }

  /** Resolves when every running fill has ended. */
  async idle(): Promise<void> {
    await Promise.all([...this.running.values()].map((f) => f.done));
  }

  /** Shutdown: running fills get `graceMs` to finish, then are aborted; nothing half-written stays. */
  async close(graceMs: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)));
    await Promise.race([this.idle(), grace]);
    clearTimeout(timer);
    this.stopping.abort();
    await this.idle();
  }
}
