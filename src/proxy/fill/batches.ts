/**
 * Reads a stream as batches of the chunks already buffered, up to `max` bytes each, so the
 * fill writes them with one writev instead of one call per network chunk. A stream that
 * errors or closes before its end rejects.
 */
import type { Readable } from 'node:stream';

function readableOrEnd(body: Readable): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = (err?: Error): void => {
      body.off('readable', ok);
      body.off('end', ok);
      body.off('error', failed);
      body.off('close', closed);
      if (err) reject(err);
      else resolve();
    };
    const ok = (): void => done();
    const failed = (err: Error): void => done(err);
    const closed = (): void => done(body.readableEnded ? undefined : (body.errored ?? new Error('upstream body closed early')));
    body.on('readable', ok);
    body.on('end', ok);
    body.on('error', failed);
    body.on('close', closed);
  });
}

export async function* batches(body: Readable, max: number): AsyncGenerator<Buffer[]> {
  for (;;) {
    const out: Buffer[] = [];
    let n = 0;
    while (n < max) {
      const chunk = body.read() as Buffer | null;
      if (chunk === null) break;
      out.push(chunk);
      n += chunk.length;
    }
    if (out.length > 0) {
      yield out;
      continue;
    }
    if (body.readableEnded) return;
    if (body.destroyed) throw body.errored ?? new Error('upstream body closed early');
    await readableOrEnd(body);
  }
}
