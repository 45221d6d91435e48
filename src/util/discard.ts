/** Drops a stream nobody is going to read. */
import type { Readable } from 'node:stream';

export function discard(stream: Readable): void {
  // An undici body destroyed before its end emits an abort error; unheard, it would crash the process.
  stream.on('error', () => undefined);
  stream.destroy();
}
