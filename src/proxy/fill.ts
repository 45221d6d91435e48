/**
 * One upstream fetch of one blob into a temp file that any number of readers tail while it
 * grows. The fill belongs to no client: readers come and go; it ends committed or failed.
 * A body that breaks mid-way is resumed with a Range request from the byte already written.
 */
import { EventEmitter } from 'node:events';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Digest } from '../oci/digest.js';
import { DigestMismatchError, type BlobStore, type BlobWriter } from '../store/blob-store.js';
import type { Failure, Upstream } from '../upstream/types.js';
import { discard } from '../util/discard.js';
import { RecentWindow } from './recent-window.js';

const RECENT_BYTES = 2 * 1024 * 1024;

export type FillState = 'starting' | 'running' | 'committed' | 'failed';

/** Why a fill produced nothing to read: an upstream answer, or a store that cannot take the bytes. */
export type FillRefusal = Failure | { readonly kind: 'store-unavailable'; readonly cause: string };

export interface FillOptions {
  readonly maxResumes: number;
  readonly totalTimeoutMs: number;
  /** Whether the store has room for this many more bytes; a blob that cannot fit is not begun. */
  readonly room?: (bytes: number) => Promise<boolean>;
  /** Cluster-wide single flight: waits while another node fills this digest (see FillClaim). */
  readonly claim?: (digest: Digest) => Promise<FillClaim>;
}

/**
 * The right to fill a digest: `owner` fills and then releases (telling waiting nodes whether it
 * committed); `stored` means another node committed it meanwhile.
 */
export type FillClaim =
  | { readonly kind: 'owner'; release(committed: boolean): Promise<void> }
  | { readonly kind: 'stored'; readonly size: number };

export interface FillHooks {
  onBytes(n: number): void;
  onResume(): void;
  /** The store refused or failed a write; the blob is served uncached or the fill fails. */
  onStoreError?(cause: string): void;
}

/** The temp file, not the upstream, failed: resuming the download would not help. */
class StoreWriteError extends Error {
  constructor(readonly reason: unknown) {
    super(reason instanceof Error ? reason.message : 'store write failed');
  }
}

class FillSink extends Writable {
  /** The write the store is doing now; a broken body must wait for it before resuming. */
  private pending: Promise<void> = Promise.resolve();

  constructor(
    private readonly writer: BlobWriter,
    private readonly fill: Fill,
    private skip: number,
  ) {
    super({ highWaterMark: 1024 * 1024 });
  }

  override _writev(chunks: Array<{ chunk: Buffer }>, cb: (err?: Error | null) => void): void {
    let buffers = chunks.map((c) => c.chunk);
    if (this.skip > 0) buffers = this.dropSkipped(buffers);
    if (buffers.length === 0) return cb();
    this.fill.received(buffers);
    this.pending = this.writer.write(buffers);
    this.pending.then(
      () => {
        this.fill.progressed(buffers);
        cb();
      },
      (err: unknown) => cb(new StoreWriteError(err)),
    );
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this._writev([{ chunk }], cb);
  }

  /**
   * Resolves once no store write is in flight. pipeline() rejects as soon as the body breaks,
   * while the sink's last write may still be running: resuming before it lands would ask for
   * bytes the spool is about to get, and hash them twice.
   */
  settled(): Promise<void> {
    return this.pending.then(() => undefined, () => undefined);
  }

  /** An upstream that ignored our Range re-sends bytes we already have. */
  private dropSkipped(buffers: Buffer[]): Buffer[] {
    const out: Buffer[] = [];
    for (const b of buffers) {
      if (this.skip >= b.length) {
        this.skip -= b.length;
        continue;
      }
      out.push(this.skip > 0 ? b.subarray(this.skip) : b);
      this.skip = 0;
    }
    return out;
  }
}

export class Fill extends EventEmitter {
  state: FillState = 'starting';
  size = -1;
  written = 0;
  /** Bytes received from upstream; at most the sink's buffer ahead of `written`. */
  receivedBytes = 0;
  failure: Error | undefined;
  /** The store could not take the blob (disk full, read-only); clients are served uncached. */
  storeRefused = false;
  private writer: BlobWriter | undefined;
  private readonly recent = new RecentWindow(RECENT_BYTES);
  /** Resolves once size is known and the temp file exists (or the blob is already stored). */
  readonly ready: Promise<{ readonly size: number } | FillRefusal>;
  readonly done: Promise<void>;
  private resolveReady!: (v: { readonly size: number } | FillRefusal) => void;

  constructor(
    readonly digest: Digest,
    private readonly repository: string,
    private readonly upstream: Upstream,
    private readonly store: BlobStore,
    private readonly opts: FillOptions,
    private readonly hooks: FillHooks,
  ) {
    super();
    this.setMaxListeners(0);
    this.ready = new Promise((resolve) => (this.resolveReady = resolve));
    this.done = this.claimed();
  }

  /** Bytes at `pos` still held in memory (a reader near the front of the fill), if any. */
  recentBytes(pos: number, max: number): Buffer | undefined {
    return this.recent.read(pos, max);
  }

  get tempPath(): string | undefined {
    return this.writer?.tempPath;
  }

  /**
   * Called by the sink as bytes arrive, before they reach the temp file: readers at the front
   * take them from memory at once instead of waiting for the disk write.
   */
  received(buffers: readonly Buffer[]): void {
    this.recent.append(this.receivedBytes, buffers);
    for (const b of buffers) this.receivedBytes += b.length;
    this.emit('progress');
  }

  /** Called by the sink after bytes reached the temp file. */
  progressed(buffers: readonly Buffer[]): void {
    let n = 0;
    for (const b of buffers) n += b.length;
    this.written += n;
    this.hooks.onBytes(n);
    this.emit('progress');
  }

  /** Runs the fill under a cluster claim when one is configured. */
  private async claimed(): Promise<void> {
    const claim = this.opts.claim ? await this.opts.claim(this.digest) : undefined;
    if (claim?.kind === 'stored') {
      this.size = claim.size;
      this.written = claim.size;
      this.state = 'committed';
      this.resolveReady({ size: claim.size });
      this.emit('progress');
      return;
    }
    try {
      await this.run();
    } finally {
      await claim?.release(this.state === 'committed');
    }
  }

  private async run(): Promise<void> {
    const existing = await this.store.stat(this.digest);
    if (existing) {
      this.size = existing.size;
      this.written = existing.size;
      this.state = 'committed';
      this.resolveReady({ size: existing.size });
      return;
    }
    // A full disk is known before dialling: the client is then served straight from upstream.
    if (this.opts.room && !(await this.opts.room(0))) return this.refuse({ kind: 'store-unavailable', cause: 'no space left' });
    const signal = AbortSignal.timeout(this.opts.totalTimeoutMs);
    const first = await this.upstream.getBlob(this.repository, this.digest.value, 0, signal);
    if (first.kind !== 'found') return this.refuse(first);
    const size = first.value.size;
    try {
      if (size >= 0 && this.opts.room && !(await this.opts.room(size))) throw new Error('no space left for the blob');
      this.writer = await this.store.begin(this.digest, size >= 0 ? size : undefined);
    } catch (err) {
      discard(first.value.body);
      return this.refuse({ kind: 'store-unavailable', cause: err instanceof Error ? err.message : 'store error' });
    }
    this.size = size;
    this.state = 'running';
    this.resolveReady({ size });
    let body = first.value.body;
    let skip = 0;
    for (let resumes = 0; ; resumes++) {
      const sink = new FillSink(this.writer, this, skip);
      try {
        await pipeline(body, sink);
        if (size < 0 || this.written >= size) break;
        throw new Error('upstream body ended short');
      } catch (err) {
        if (err instanceof StoreWriteError) {
          this.hooks.onStoreError?.(err.message);
          return this.fail(err);
        }
        await sink.settled();
        // Resuming from byte 0 is a plain retry: a reset before the first write is no different.
        if (resumes >= this.opts.maxResumes || signal.aborted) return this.fail(err);
        const next = await this.upstream.getBlob(this.repository, this.digest.value, this.written, signal);
        if (next.kind !== 'found' || next.value.start > this.written) {
          if (next.kind === 'found') discard(next.value.body);
          return this.fail(err);
        }
        this.hooks.onResume();
        skip = this.written - next.value.start;
        body = next.value.body;
      }
    }
    try {
      await this.writer.commit();
    } catch (err) {
      // A mismatch already removed the temp file; a failed fsync or rename must not leave it.
      if (!(err instanceof DigestMismatchError)) this.hooks.onStoreError?.(err instanceof Error ? err.message : 'commit failed');
      return this.fail(err);
    }
    if (size < 0) this.size = this.written;
    this.state = 'committed';
    this.emit('progress');
    // Readers still behind continue from the file; the window only serves the front.
    setImmediate(() => this.recent.clear());
  }

  private refuse(why: FillRefusal): void {
    this.storeRefused = why.kind === 'store-unavailable';
    if (why.kind === 'store-unavailable') this.hooks.onStoreError?.(why.cause);
    this.state = 'failed';
    this.failure = new Error(why.kind);
    this.resolveReady(why);
    this.emit('progress');
  }

  private async fail(err: unknown): Promise<void> {
    this.failure = err instanceof Error ? err : new Error('fill failed');
    await this.writer?.abort().catch(() => undefined);
    this.recent.clear();
    this.state = 'failed';
    this.emit('progress');
  }
}
