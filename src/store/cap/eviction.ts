/**
 * Keeps the store under its size cap. Above the high watermark (committed bytes plus the bytes
 * reserved by writes in progress), content is removed least recently used first until the total
 * is below the low watermark. Eviction is by content, never by repository: a digest goes only
 * when no reader holds it, no fill is writing it and no pin protects it. Passes run one at a time.
 */
import type { Recency } from './recency.js';
import type { Release } from './in-use.js';

export interface EvictionPolicy {
  /** Bytes; 0 = unbounded (the evictor does nothing). */
  readonly maxSize: number;
  /** Fractions of maxSize, 0 < low < high <= 1. */
  readonly highWatermark: number;
  readonly lowWatermark: number;
}

/** What any evictor asks of its node, whatever keeps the order of use. */
export interface EvictionDeps {
  /** A reader or a fill uses the digest right now (on this node). */
  readonly inUse: (digest: string) => boolean;
  /** Digests that must never be evicted (pins), computed once per pass. */
  readonly protectedDigests: () => Promise<ReadonlySet<string>>;
  /** Removes the content of a digest (blob file, manifest metadata, in-memory copies). */
  readonly remove: (digest: string) => Promise<void>;
  readonly evicted?: (digest: string, size: number) => void;
  /** The pass could not get below the low watermark: everything left is pinned or in use. */
  readonly blocked?: (bytes: number, target: number) => void;
}

export interface EvictorDeps extends EvictionDeps {
  readonly recency: Recency;
}

export interface EvictionResult {
  readonly evicted: number;
  readonly freedBytes: number;
  readonly bytesAfter: number;
  /** False when pins and readers kept the store above the low watermark. */
  readonly reachedTarget: boolean;
}

const NOTHING = (bytes: number): EvictionResult => ({ evicted: 0, freedBytes: 0, bytesAfter: bytes, reachedTarget: true });
const NOOP: Release = () => undefined;

/** Bytes held for writes that have begun and not yet committed or been abandoned. */
export class Reservations {
  private held = 0;

  get bytes(): number {
    return this.held;
  }

  /** Holds `bytes`; the returned release (harmless twice) gives them back. */
  take(bytes: number): Release {
    this.held += bytes;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.held -= bytes;
    };
  }
}

/** The high and low watermarks of a policy, in bytes. */
export function watermarks(policy: EvictionPolicy): { readonly high: number; readonly low: number } {
  return { high: Math.floor(policy.maxSize * policy.highWatermark), low: Math.floor(policy.maxSize * policy.lowWatermark) };
}

export class Evictor {
  private readonly reservations = new Reservations();
  private tail: Promise<unknown> = Promise.resolve();
  private queued: Promise<EvictionResult> | undefined;

  constructor(
    private readonly policy: EvictionPolicy,
    private readonly deps: EvictorDeps,
  ) {}

  get enabled(): boolean {
    return this.policy.maxSize > 0;
  }

  get highBytes(): number {
    return watermarks(this.policy).high;
  }

  get lowBytes(): number {
    return watermarks(this.policy).low;
  }

  /** Bytes held for writes that have begun and not yet committed or been abandoned. */
  get reservedBytes(): number {
    return this.reservations.bytes;
  }

  /**
   * Makes room for a write of `bytes` before it begins. The returned release is called once
   * the write committed (its bytes are then counted as content) or was abandoned.
   */
  async reserve(bytes: number): Promise<Release> {
    if (!this.enabled || bytes <= 0) return NOOP;
    const release = this.reservations.take(bytes);
    if (this.over()) await this.run();
    return release;
  }

  /** After a commit: evicts in the background when the store went above the high watermark. */
  kick(): void {
    if (!this.enabled) return;
    setImmediate(() => {
      if (this.over()) void this.run();
    });
  }

  /** One pass now (or the pass already queued). Never rejects. */
  run(): Promise<EvictionResult> {
    if (!this.enabled) return Promise.resolve(NOTHING(this.deps.recency.bytes));
    if (this.queued) return this.queued;
    const pass = this.tail.then(() => {
      this.queued = undefined;
      return this.pass();
    });
    const safe = pass.catch((): EvictionResult => ({ ...NOTHING(this.deps.recency.bytes), reachedTarget: false }));
    this.queued = safe;
    this.tail = safe;
    return safe;
  }

  /** Resolves when no pass is running or queued. */
  async idle(): Promise<void> {
    let seen: Promise<unknown>;
    do {
      seen = this.tail;
      await seen;
    } while (seen !== this.tail);
  }

  private over(): boolean {
    return this.deps.recency.bytes + this.reservedBytes > this.highBytes;
  }

  private async pass(): Promise<EvictionResult> {
    const recency = this.deps.recency;
    if (!this.over()) return NOTHING(recency.bytes);
    const target = Math.max(0, this.lowBytes - this.reservedBytes);
    const pinned = await this.deps.protectedDigests();
    const victims: Array<{ digest: string; size: number }> = [];
    let projected = recency.bytes;
    for (const c of recency.oldestFirst()) {
      if (projected <= target) break;
      if (pinned.has(c.digest) || this.deps.inUse(c.digest)) continue;
      victims.push(c);
      projected -= c.size;
    }
    let evicted = 0;
    let freed = 0;
    for (const v of victims) {
      // A reader may have arrived since the candidates were chosen.
      if (this.deps.inUse(v.digest) || !recency.has(v.digest)) continue;
      await this.deps.remove(v.digest);
      recency.delete(v.digest);
      evicted++;
      freed += v.size;
      this.deps.evicted?.(v.digest, v.size);
    }
    const reachedTarget = recency.bytes <= target;
    if (!reachedTarget) this.deps.blocked?.(recency.bytes, target);
    return { evicted, freedBytes: freed, bytesAfter: recency.bytes, reachedTarget };
  }
}
