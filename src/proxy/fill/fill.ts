/**
 * One upstream fetch of one blob into the store's spool, which any number of readers follow
 * while it grows. The fill belongs to no client: readers come and go; it ends committed, failed,
 * or refused (the store could not take it). Its state is private: readers get a `reader(range)`,
 * the registry and the status page a snapshot.
 */
import type { Readable } from 'node:stream';
import type { Digest } from '../../oci/digest.js';
import { DigestMismatchError, type BlobStore, type BlobWriter, type ByteRange, type PartialReader } from '../../store/blob-store.js';
import { unreachable } from '../../upstream/error-cause.js';
import type { Upstream } from '../../upstream/types.js';
import { discard } from '../../util/discard.js';
import type { FetchPolicy, FillClaim, FillHooks, FillOptions, FillRefusal, FillResult, FillStatus } from './contract.js';
import { FillProgress } from './progress.js';
import { FollowingReader } from './reader.js';
import { fetchRanged } from './ranged-fetch.js';
import { mirror, type MirrorSide } from './mirror.js';
import { fetchStream, StoreWriteError, type StreamFetchDeps } from './stream-fetch.js';

export type { FetchPolicy, FillClaim, FillHooks, FillOptions, FillRefusal, FillResult, FillStatus, PeerClaim } from './contract.js';

const message = (err: unknown, fallback: string): string => (err instanceof Error ? err.message : fallback);

export class Fill {
  private readonly progress = new FillProgress();
  private writer: BlobWriter | undefined;
  /** How readers open the spool: this fill's writer, or another worker's spool it follows. */
  private partial: (() => Promise<PartialReader | undefined>) | undefined;
  private claim: FillClaim | undefined;
  private result: FillResult | undefined;
  /** Resolves once the size is known and bytes can be read (or the blob is already stored). */
  readonly ready: Promise<{ readonly size: number } | FillRefusal>;
  readonly done: Promise<FillResult>;
  private resolveReady!: (v: { readonly size: number } | FillRefusal) => void;

  constructor(
    readonly digest: Digest,
    private readonly repository: string,
    private readonly upstream: Upstream,
    private readonly store: BlobStore,
    private readonly opts: FillOptions,
    private readonly policy: FetchPolicy,
    private readonly hooks: FillHooks,
  ) {
    this.ready = new Promise((resolve) => (this.resolveReady = resolve));
    this.done = this.claimed().then(() => this.result ?? 'failed');
  }

  status(): FillStatus {
    const s = this.progress.get();
    return { digest: this.digest.value, written: s.available, size: s.size };
  }

  /** Bytes still to be written by this fill, for the space check of the next one. */
  pending(): number {
    const s = this.progress.get();
    return s.phase === 'running' && s.size > s.available ? s.size - s.available : 0;
  }

  /**
   * The bytes of `range`, as they arrive. After `ready` gave a size; rejects when the fill
   * failed before this reader could follow it.
   */
  async reader(range: ByteRange): Promise<Readable> {
    const partial = await this.partial?.();
    if (partial) return new FollowingReader(this.progress, partial, range);
    // Not begun (already stored) or over: the committed blob is all there is.
    if ((await this.done) !== 'committed') throw this.progress.get().failure ?? new Error('fill failed');
    const stream = await this.store.open(this.digest, range);
    if (!stream) throw new Error('committed blob vanished');
    return stream;
  }

  private async claimed(): Promise<void> {
    const claim = this.opts.claim ? await this.opts.claim(this.digest) : undefined;
    this.claim = claim;
    if (claim?.kind === 'stored') return this.stored(claim.size);
    if (claim?.kind === 'follow') return this.follow(claim);
    if (claim?.kind === 'peer') return mirror(this.mirrorSide(), claim);
    try {
      await this.run();
    } finally {
      await claim?.release(this.result === 'committed');
    }
  }

  /** Another worker fills the digest: readers follow its spool at once, as its progress says. */
  private async follow(claim: Extract<FillClaim, { kind: 'follow' }>): Promise<void> {
    this.partial = () => claim.open();
    this.progress.update({ phase: 'running', size: claim.size });
    this.resolveReady({ size: claim.size });
    for (;;) {
      const s = claim.progress.get();
      const changed = claim.progress.changed();
      this.progress.update(s);
      if (s.phase === 'verified' || s.phase === 'failed') break;
      await changed;
    }
    this.result = (await claim.settled) ? 'committed' : 'failed';
  }

  private stored(size: number): void {
    this.progress.update({ phase: 'verified', size, available: size });
    this.result = 'committed';
    this.resolveReady({ size });
  }

  private async run(): Promise<void> {
    const existing = await this.store.stat(this.digest);
    if (existing) return this.stored(existing.size);
    // A full disk is known before dialling: the client is then served straight from upstream.
    if (this.opts.room && !(await this.opts.room(0))) return this.refuse({ kind: 'store-unavailable', cause: 'no space left' });
    const signal = this.fillSignal();
    await this.policy.permits.take();
    try {
      await this.fetch(signal);
    } finally {
      this.policy.permits.give();
    }
  }

  private async fetch(signal: AbortSignal): Promise<void> {
    const split = this.policy.connections > 1;
    // Asking for the first part tells whether the upstream (or its CDN) serves ranges, and the size.
    const first = await this.upstream.getBlob(this.repository, this.digest.value, split ? { from: 0, to: this.policy.minSize, signal } : { from: 0, signal });
    if (first.kind !== 'found') return this.refuse(first);
    if (first.value.start !== 0) {
      discard(first.value.body);
      return this.refuse(unreachable('invalid', 'upstream answered with another range', this.upstream));
    }
    const size = first.value.size;
    let writer: BlobWriter;
    try {
      if (size >= 0 && this.opts.room && !(await this.opts.room(size))) throw new Error('no space left for the blob');
      writer = await this.store.begin(this.digest, size >= 0 ? size : undefined);
    } catch (err) {
      discard(first.value.body);
      return this.refuse({ kind: 'store-unavailable', cause: message(err, 'store error') });
    }
    this.writer = writer;
    this.partial = () => writer.openPartial();
    this.progress.update({ phase: 'running', size });
    this.resolveReady({ size });
    if (this.claim?.kind === 'owner' && writer.spoolName !== undefined) this.claim.publish?.(writer.spoolName, this.progress);
    const deps = this.fetchDeps(writer, signal);
    try {
      if (first.value.end < size) this.hooks.onConnections(await fetchRanged(deps, first.value, this.policy));
      else {
        await fetchStream(deps, first.value);
        this.hooks.onConnections(1);
      }
    } catch (err) {
      if (err instanceof StoreWriteError) this.hooks.onStoreError(err.message);
      return this.fail(err);
    }
    await this.finish(writer);
  }

  /** `upstream`: the bytes come from the upstream (counted as such), not from a peer or the store. */
  private fetchDeps(writer: BlobWriter, signal: AbortSignal, upstream = true): StreamFetchDeps {
    const write = async (position: number, chunks: readonly Buffer[]): Promise<void> => {
      let available: number;
      try {
        available = await writer.writeAt(position, chunks);
      } catch (err) {
        throw new StoreWriteError(err);
      }
      let n = 0;
      for (const c of chunks) n += c.length;
      if (upstream) this.hooks.onBytes(n);
      this.progress.update({ available });
    };
    return { upstream: this.upstream, repository: this.repository, digest: this.digest, signal, maxResumes: this.opts.maxResumes, write, onResume: () => this.hooks.onResume() };
  }

  /**
   * The last byte goes to readers once the digest is verified; visibility waits for durability.
   * A mirror does not store again what its owner stored (`storedElsewhere`).
   */
  private async finish(writer: BlobWriter, storedElsewhere?: () => Promise<boolean>): Promise<boolean> {
    try {
      await writer.verify();
    } catch (err) {
      // A mismatch already discarded the spool.
      if (!(err instanceof DigestMismatchError)) this.hooks.onStoreError(message(err, 'verify failed'));
      await this.fail(err);
      return false;
    }
    const size = this.progress.get().available;
    this.progress.update({ phase: 'verified', size, available: size });
    if (storedElsewhere && (await storedElsewhere())) {
      // Readers keep the spool they opened; new ones read the stored blob.
      await writer.abort().catch(() => undefined);
      this.result = 'committed';
      return true;
    }
    try {
      await writer.commit();
      this.result = 'committed';
    } catch (err) {
      // Readers already have every verified byte; only the cache entry is lost.
      this.hooks.onStoreError(message(err, 'commit failed'));
      await writer.abort().catch(() => undefined);
      this.result = 'failed';
    }
    return this.result === 'committed';
  }

  private mirrorSide(): MirrorSide {
    const signal = this.fillSignal();
    return {
      digest: this.digest,
      permits: this.policy.permits,
      signal,
      begin: async (size) => {
        try {
          this.writer = await this.store.begin(this.digest, size, { mirror: true });
        } catch (err) {
          this.refuse({ kind: 'store-unavailable', cause: message(err, 'store error') });
          return undefined;
        }
        const writer = this.writer;
        this.partial = () => writer.openPartial();
        this.progress.update({ phase: 'running', size });
        this.resolveReady({ size });
        return writer;
      },
      available: () => this.progress.get().available,
      deps: (writer, upstream) => this.fetchDeps(writer, signal, upstream),
      claim: async (from) => {
        const claim = this.opts.claim ? await this.opts.claim(this.digest, from) : undefined;
        if (claim) this.claim = claim;
        return claim ?? { kind: 'owner', release: async () => undefined };
      },
      openStored: (range) => this.store.open(this.digest, range),
      finish: (writer, storedElsewhere) => this.finish(writer, storedElsewhere),
      fail: (err) => this.fail(err),
    };
  }

  private fillSignal(): AbortSignal {
    const timeout = AbortSignal.timeout(this.opts.totalTimeoutMs);
    return this.opts.signal ? AbortSignal.any([timeout, this.opts.signal]) : timeout;
  }

  private refuse(why: FillRefusal): void {
    if (why.kind === 'store-unavailable') this.hooks.onStoreError(why.cause);
    this.result = why.kind === 'store-unavailable' ? 'uncached' : 'failed';
    this.progress.update({ phase: 'failed', failure: new Error(why.kind) });
    this.resolveReady(why);
  }

  private async fail(err: unknown): Promise<void> {
    this.result = 'failed';
    await this.writer?.abort().catch(() => undefined);
    this.progress.update({ phase: 'failed', failure: err instanceof Error ? err : new Error('fill failed') });
  }
}
