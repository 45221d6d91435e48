/**
 * Reads a blob while its fill is still writing it: from the temp file, up to the bytes
 * already written, waiting for more. A failed fill breaks the reader (never a clean end).
 */
import { open, type FileHandle } from 'node:fs/promises';
import { Readable } from 'node:stream';
import type { BlobStore, ByteRange } from '../store/blob-store.js';
import type { Fill } from './fill.js';

// Small enough that many concurrent readers stay light, large enough for few syscalls.
const CHUNK = 128 * 1024;

export class TailReader extends Readable {
  private fh: FileHandle | undefined;
  private pos: number;
  private reading = false;
  /** The committed blob's store stream, once the fill is over; closed with this reader. */
  private committed: Readable | undefined;

  constructor(
    private readonly fill: Fill,
    private readonly store: BlobStore,
    private readonly range: ByteRange,
  ) {
    super({ highWaterMark: CHUNK });
    this.pos = range.start;
  }

  override _construct(callback: (error?: Error | null) => void): void {
    this.openFile().then(() => callback(), (err: Error) => callback(err));
  }

  private async openFile(): Promise<void> {
    const path = this.fill.tempPath;
    if (path) {
      try {
        this.fh = await open(path, 'r');
        return;
      } catch {
        // Renamed into place (or removed) between the check and the open: decided below.
      }
    }
    await this.fill.done;
    if (this.fill.state !== 'committed') throw this.fill.failure ?? new Error('fill failed');
    const stream = await this.store.open(this.fill.digest, this.range);
    if (!stream) throw new Error('committed blob vanished');
    this.delegate(stream);
  }

  /** Once committed content is all that is left, the store's own stream takes over. */
  private delegate(stream: Readable): void {
    this.pos = this.range.end + 1;
    this.committed = stream;
    stream.on('data', (chunk: Buffer) => {
      if (!this.push(chunk)) stream.pause();
    });
    stream.on('end', () => this.push(null));
    stream.on('error', (err) => this.destroy(err));
    this.on('drainRequest', () => stream.resume());
  }

  override _read(): void {
    if (!this.fh) {
      this.emit('drainRequest');
      return;
    }
    if (this.reading) return;
    void this.pump();
  }

  private async pump(): Promise<void> {
    const fh = this.fh;
    if (!fh) return;
    this.reading = true;
    try {
      for (;;) {
        if (this.pos > this.range.end) {
          this.push(null);
          return;
        }
        // The blob's last byte is held back until the digest is verified, so a wrong body
        // can only ever end short, never complete.
        const committed = this.fill.state === 'committed';
        const front = Math.max(this.fill.written, this.fill.receivedBytes);
        const limit = committed || this.fill.size < 0 ? front : Math.min(front, this.fill.size - 1);
        const available = Math.min(limit, this.range.end + 1) - this.pos;
        if (available > 0) {
          const want = Math.min(available, CHUNK);
          const held = this.fill.recentBytes(this.pos, want);
          if (held) {
            this.pos += held.length;
            if (!this.push(held)) return;
            continue;
          }
          if (this.pos >= this.fill.written) {
            // Received but not yet on disk, and no longer held: wait for the write.
            await new Promise<void>((resolve) => this.fill.once('progress', resolve));
            if (this.destroyed) return;
            continue;
          }
          const buf = Buffer.allocUnsafe(Math.min(want, this.fill.written - this.pos));
          const { bytesRead } = await fh.read(buf, 0, buf.length, this.pos);
          if (bytesRead === 0) throw new Error('temp file shorter than written count');
          this.pos += bytesRead;
          if (!this.push(bytesRead === buf.length ? buf : buf.subarray(0, bytesRead))) return;
          continue;
        }
        if (this.fill.state === 'failed') throw this.fill.failure ?? new Error('fill failed');
        if (committed) throw new Error('blob shorter than requested range');
        await new Promise<void>((resolve) => this.fill.once('progress', resolve));
        if (this.destroyed) return;
      }
    } catch (err) {
      this.destroy(err instanceof Error ? err : new Error('read failed'));
    } finally {
      this.reading = false;
    }
  }

  override _destroy(err: Error | null, callback: (error?: Error | null) => void): void {
    // A client that leaves after the commit must not keep the file and its read budget open.
    this.committed?.destroy();
    const fh = this.fh;
    this.fh = undefined;
    if (fh) fh.close().then(() => callback(err), () => callback(err));
    else callback(err);
  }
}
