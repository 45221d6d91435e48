/** A Writable into a BlobWriter, so any stream can be piped into the store (verified at commit). */
import { Writable } from 'node:stream';
import type { BlobWriter } from './blob-store.js';

export class WriterSink extends Writable {
  private position = 0;

  constructor(private readonly writer: BlobWriter) {
    super({ highWaterMark: 1024 * 1024 });
  }

  override _writev(chunks: Array<{ chunk: Buffer }>, cb: (err?: Error | null) => void): void {
    this.append(chunks.map((c) => c.chunk), cb);
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.append([chunk], cb);
  }

  private append(buffers: Buffer[], cb: (err?: Error | null) => void): void {
    const at = this.position;
    for (const b of buffers) this.position += b.length;
    this.writer.writeAt(at, buffers).then(() => cb(), cb);
  }
}
