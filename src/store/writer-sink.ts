/** A Writable into a BlobWriter, so any stream can be piped into the store (verified at commit). */
import { Writable } from 'node:stream';
import type { BlobWriter } from './blob-store.js';

export class WriterSink extends Writable {
  constructor(private readonly writer: BlobWriter) {
    super({ highWaterMark: 1024 * 1024 });
  }

  override _writev(chunks: Array<{ chunk: Buffer }>, cb: (err?: Error | null) => void): void {
    this.writer.write(chunks.map((c) => c.chunk)).then(() => cb(), cb);
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.writer.write([chunk]).then(() => cb(), cb);
  }
}
