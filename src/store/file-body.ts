/**
 * A committed blob file (or a range of it) as a Readable. Piped into an HTTP response (what
 * koa does with a body), it writes to the response itself with buffers from a ReadPool and
 * gives each buffer back when the write's callback says the socket is done with it: at most
 * two writes in flight per client, so a client's memory is two buffers however slow it is,
 * and serving allocates nothing. Any other consumer (a tee, an export, an iterator) may keep
 * the chunks it gets, so it reads through `_read` into buffers of its own.
 */
import type { FileHandle } from 'node:fs/promises';
import { ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import type { ReadPool } from './read-pool.js';

/** One buffer on the wire while the next one is read from disk. */
const IN_FLIGHT = 2;

interface Dest {
  write(chunk: Buffer, cb: (err?: Error | null) => void): boolean;
  end(): unknown;
  emit(event: 'pipe', src: Readable): boolean;
}

export class FileBody extends Readable {
  private pos: number;
  private direct = false;
  /** Pooled buffers handed to the destination whose write has not completed. */
  private readonly lent = new Set<Buffer>();
  private wake: (() => void) | undefined;

  constructor(
    private readonly fh: FileHandle,
    start: number,
    /** Inclusive; start - 1 for an empty body. */
    private readonly end: number,
    private readonly pool: ReadPool,
  ) {
    super({ highWaterMark: pool.overflowSize * 4 });
    this.pos = start;
  }

  override pipe<T extends NodeJS.WritableStream>(dest: T, opts?: { end?: boolean }): T {
    // Only an HTTP response is known to call every write's callback (a streamx sink, such as a
    // tar entry, does not): anything else reads through _read.
    const response = dest instanceof ServerResponse;
    if (!response || this.direct || this.readableFlowing !== null || this.readableLength > 0 || this.destroyed) return super.pipe(dest, opts);
    this.direct = true;
    const d = dest as unknown as Dest;
    d.emit('pipe', this);
    void this.writeTo(d, opts?.end !== false);
    return dest;
  }

  private async writeTo(dest: Dest, endDest: boolean): Promise<void> {
    let inFlight = 0;
    let failed: Error | undefined;
    const written = (buf: Buffer | undefined) => (err?: Error | null) => {
      inFlight--;
      if (buf && this.lent.delete(buf)) this.pool.give(buf);
      if (err) failed ??= err;
      this.wakeUp();
    };
    const leave = this.pool.enter();
    try {
      while (this.pos <= this.end && failed === undefined && !this.destroyed) {
        if (inFlight >= IN_FLIGHT) {
          await this.sleep();
          continue;
        }
        const pooled = this.pool.take();
        const buf = pooled ?? Buffer.allocUnsafe(this.pool.overflowSize);
        let n: number;
        try {
          n = (await this.fh.read(buf, 0, Math.min(buf.length, this.end + 1 - this.pos), this.pos)).bytesRead;
        } catch (err) {
          if (pooled) this.pool.give(pooled);
          throw err;
        }
        if (this.destroyed || n === 0) {
          if (pooled) this.pool.give(pooled);
          if (this.destroyed) return;
          throw new Error('blob file is shorter than its recorded size');
        }
        if (pooled) this.lent.add(pooled);
        this.pos += n;
        inFlight++;
        dest.write(n === buf.length ? buf : buf.subarray(0, n), written(pooled));
      }
      while (inFlight > 0 && !this.destroyed) await this.sleep();
      if (failed) throw failed;
      if (this.destroyed) return;
      this.push(null);
      if (endDest) dest.end();
      // Emits 'end' (nothing is buffered) so pipeline ends the response and we auto-destroy.
      this.resume();
    } catch (err) {
      this.destroy(err instanceof Error ? err : new Error('read failed'));
    } finally {
      leave();
    }
  }

  private sleep(): Promise<void> {
    return new Promise((resolve) => (this.wake = resolve));
  }

  private wakeUp(): void {
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }

  override _read(size: number): void {
    if (this.direct) return;
    if (this.pos > this.end) {
      this.push(null);
      return;
    }
    const buf = Buffer.allocUnsafe(Math.min(Math.max(size, this.pool.overflowSize), this.end + 1 - this.pos));
    this.fh.read(buf, 0, buf.length, this.pos).then(
      ({ bytesRead }) => {
        if (bytesRead === 0) return this.destroy(new Error('blob file is shorter than its recorded size'));
        this.pos += bytesRead;
        this.push(bytesRead === buf.length ? buf : buf.subarray(0, bytesRead));
      },
      (err: Error) => this.destroy(err),
    );
  }

  override _destroy(err: Error | null, callback: (error?: Error | null) => void): void {
    // Writes that never reported back may still reference their buffers: leave those to the GC.
    for (const b of this.lent) this.pool.forget(b);
    this.lent.clear();
    this.wakeUp();
    this.fh.close().then(() => callback(err), () => callback(err));
  }
}
