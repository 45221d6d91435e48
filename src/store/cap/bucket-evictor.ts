/**
 * The size cap of a bucket several nodes share. The order of use and the bytes held live in a
 * shared ledger (Redis), so every node's reads count; one node at a time evicts (the ledger's
 * lease), least recently used content first, skipping pins and digests any node is reading or
 * filling. A write reserves room on its node first, as with one node.
 */
import { Reservations, watermarks, type EvictionDeps, type EvictionPolicy, type EvictionResult } from './eviction.js';
import type { Release } from './in-use.js';

export interface EvictionLedger {
  /** Bytes of all content in the bucket; undefined when the ledger cannot be read. */
  bytes(): Promise<number | undefined>;
  /** Least recently used content, from `offset`, at most `count`. */
  oldest(offset: number, count: number): Promise<Array<{ readonly digest: string; readonly size: number }>>;
  /** Which of these digests another node is reading or filling. */
  heldElsewhere(digests: readonly string[]): Promise<ReadonlySet<string>>;
  /** Takes removed content out of the ledger (idempotent). */
  forget(digest: string): Promise<void>;
  /** The right to evict, for one pass; undefined while another node has it. */
  evictLease(): Promise<{ release(): Promise<void> } | undefined>;
}

/** What a node's size cap tells the shared ledger. */
export interface BucketLedgerPort extends EvictionLedger {
  /** Content became visible (`known`: found at start; an older use time recorded stays). */
  add(digest: string, size: number, at?: number, known?: boolean): Promise<void>;
  touch(digest: string): void;
  /** This node started or stopped reading or filling a digest. */
  using(digest: string, inUse: boolean): void;
}

export interface BucketEvictorDeps extends EvictionDeps {
  readonly ledger: EvictionLedger;
}

const NOOP: Release = () => undefined;
const BATCH = 200;

export class BucketEvictor {
  private readonly reservations = new Reservations();
  private running: Promise<EvictionResult> | undefined;

  constructor(
    private readonly policy: EvictionPolicy,
    private readonly deps: BucketEvictorDeps,
  ) {}

  get enabled(): boolean {
    return this.policy.maxSize > 0;
  }

  async reserve(bytes: number): Promise<Release> {
    if (!this.enabled || bytes <= 0) return NOOP;
    const release = this.reservations.take(bytes);
    await this.run();
    return release;
  }

  kick(): void {
    if (this.enabled) setImmediate(() => void this.run());
  }

  /** One pass (or the one running on this node). Never rejects. */
  run(): Promise<EvictionResult> {
    this.running ??= this.pass()
      .catch((): EvictionResult => ({ evicted: 0, freedBytes: 0, bytesAfter: -1, reachedTarget: false }))
      .finally(() => (this.running = undefined));
    return this.running;
  }

  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  private async pass(): Promise<EvictionResult> {
    const { ledger } = this.deps;
    const start = await ledger.bytes();
    if (start === undefined || start + this.reservations.bytes <= watermarks(this.policy).high) return { evicted: 0, freedBytes: 0, bytesAfter: start ?? -1, reachedTarget: true };
    const lease = await ledger.evictLease();
    // Another node is evicting; the next commit or write here looks again.
    if (!lease) return { evicted: 0, freedBytes: 0, bytesAfter: start, reachedTarget: false };
    try {
      return await this.evict(start);
    } finally {
      await lease.release();
    }
  }

  private async evict(start: number): Promise<EvictionResult> {
    const { ledger } = this.deps;
    const target = Math.max(0, watermarks(this.policy).low - this.reservations.bytes);
    const pinned = await this.deps.protectedDigests();
    let bytes = start;
    let offset = 0;
    let evicted = 0;
    let freed = 0;
    while (bytes > target) {
      const batch = await ledger.oldest(offset, BATCH);
      if (batch.length === 0) break;
      const elsewhere = await ledger.heldElsewhere(batch.map((c) => c.digest));
      for (const c of batch) {
        if (bytes <= target) break;
        if (pinned.has(c.digest) || elsewhere.has(c.digest) || this.deps.inUse(c.digest)) {
          offset++;
          continue;
        }
        await this.deps.remove(c.digest);
        // Before the next page is read: it must not list this digest again.
        await ledger.forget(c.digest);
        bytes -= c.size;
        evicted++;
        freed += c.size;
        this.deps.evicted?.(c.digest, c.size);
      }
    }
    const after = (await ledger.bytes()) ?? bytes;
    const reachedTarget = after <= target;
    if (!reachedTarget) this.deps.blocked?.(after, target);
    return { evicted, freedBytes: freed, bytesAfter: after, reachedTarget };
  }
}
