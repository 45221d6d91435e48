/**
 * A client's reader of a blob whose fill is running: positional reads from the spool up to the
 * bytes written so far, waiting for more. The spool stays readable after the commit renames it,
 * so a reader never switches files. A failed fill breaks the reader, never a clean end.
 */
import { Readable } from 'node:stream';
import type { ByteRange, PartialReader } from '../../store/blob-store.js';
import { FillProgress, type ProgressView } from './progress.js';

// Small enough that many concurrent readers stay light, large enough for few syscalls.
const CHUNK = 256 * 1024;

export class FollowingReader extends Readable {
  private pos: number;
  private reading = false;

  constructor(
    private readonly progress: ProgressView,
    private readonly partial: PartialReader,
    private readonly range: ByteRange,
  ) {
    super({ highWaterMark: CHUNK });
    this.pos = range.start;
  }

  override _read(): void {
    if (this.reading) return;
    this.reading = true;
    this.pump().then(
      () => (this.reading = false),
      (err: unknown) => this.destroy(err instanceof Error ? err : new Error('read failed')),
    );
  }

  /** Sends what can be sent; returns when the consumer is full, the range is done, or it broke. */
  private async pump(): Promise<void> {
    for (;;) {
      if (this.destroyed) return;
      if (this.pos > this.range.end) {
        this.push(null);
        return;
      }
      const snap = this.progress.get();
      const n = Math.min(FillProgress.readable(snap), this.range.end + 1) - this.pos;
      if (n > 0) {
        const buf = Buffer.allocUnsafe(Math.min(n, CHUNK));
        const got = await this.partial.read(buf, this.pos);
        if (got === 0) throw new Error('spool shorter than its progress');
        this.pos += got;
        if (!this.push(got === buf.length ? buf : buf.subarray(0, got))) return;
        continue;
      }
      if (snap.phase === 'failed') throw snap.failure ?? new Error('fill failed');
      // A blob of unknown size ends where the verified content ends.
      if (snap.phase === 'verified') {
        this.push(null);
        return;
      }
      await this.progress.changed();
    }
  }

  override _destroy(err: Error | null, callback: (error?: Error | null) => void): void {
    this.partial.close().then(() => callback(err), () => callback(err));
  }
}
