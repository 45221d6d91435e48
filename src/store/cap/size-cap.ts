/**
 * The size cap's parts for one store, built together: who is reading what (InUse), the LRU
 * order with its persisted record (Recency), and the Evictor. The store's commit and remove
 * hooks report here; `wrap` puts the cap in front of the store.
 */
import { parseDigest, type Digest } from '../../oci/digest.js';
import type { BlobStore, StoredBlob } from '../blob-store.js';
import { CappedStore } from './capped-store.js';
import { BucketEvictor, type BucketLedgerPort } from './bucket-evictor.js';
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
  /** Several nodes on one bucket: the order of use, the bytes and eviction are shared. */
  readonly ledger?: BucketLedgerPort;
}

export interface SizeCapOptions {
  /** CLI tools next to a running daemon read the record and never write it. */
  readonly readOnly?: boolean;
  readonly flushMs?: number;
}

/** The evictor of one node's store, or of a bucket shared by several. */
type CapEvictor = Pick<Evictor, 'reserve' | 'kick' | 'run' | 'idle'>;

export class SizeCap {
  readonly inUse: InUse;
  readonly recency: Recency;
  readonly evictor: CapEvictor;
  private readonly ledger: BucketLedgerPort | undefined;

  constructor(stateDir: string, policy: EvictionPolicy, deps: SizeCapDeps, opts: SizeCapOptions = {}) {
    this.ledger = deps.ledger;
    this.inUse = new InUse(deps.ledger ? (d, held) => deps.ledger?.using(d, held) : undefined);
    this.recency = new Recency(new RecencyLog(stateDir, opts.readOnly ?? false), opts.flushMs !== undefined ? { flushMs: opts.flushMs } : {});
    const common = {
      inUse: (d: string) => this.inUse.has(d) || deps.filling(d),
      protectedDigests: deps.protectedDigests,
      remove: async (d: string) => {
        const digest = parseDigest(d);
        if (digest) await deps.remove(digest);
      },
      ...(deps.evicted ? { evicted: deps.evicted } : {}),
      ...(deps.blocked ? { blocked: deps.blocked } : {}),
    };
    this.evictor = deps.ledger ? new BucketEvictor(policy, { ...common, ledger: deps.ledger }) : new Evictor(policy, { ...common, recency: this.recency });
  }

  /** The content found at start; a shared ledger learns of what it did not know (placed by file times). */
  load(stored: AsyncIterable<StoredBlob>): Promise<RecencyLoadReport> {
    const ledger = this.ledger;
    if (!ledger) return this.recency.load(stored);
    return this.recency.load(
      (async function* () {
        for await (const b of stored) {
          await ledger.add(b.digest, b.size, Math.max(b.atimeMs, b.mtimeMs ?? 0), true);
          yield b;
        }
      })(),
    );
  }

  /** Store hook: content became visible. */
  committed(digest: string, size: number): void {
    this.recency.add(digest, size);
    // The next eviction check must see this content in the shared total.
    if (this.ledger) void this.ledger.add(digest, size).then(() => this.evictor.kick());
    else this.evictor.kick();
  }

  /** Store hook: content was removed (by eviction or anyone else). */
  removed(digest: string): void {
    this.recency.delete(digest);
    void this.ledger?.forget(digest);
  }

  /** Content was served. */
  used(digest: string): void {
    this.recency.touch(digest);
    this.ledger?.touch(digest);
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
