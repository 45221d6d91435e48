/**
 * Reads a stream as batches of its chunks as they arrived (no copy, no concatenation), up to
 * about `max` bytes each, so the fill writes them with one writev instead of one call per
 * network chunk. While a batch is being written the stream fills the next one and is paused
 * once it holds `max` bytes. A stream that errors or closes before its end rejects.
 */
import type { Readable } from 'node:stream';

export async function* batches(body: Readable, max: number): AsyncGenerator<Buffer[]> {
  let queue: Buffer[] = [];
  let queued = 0;
  let ended = false;
  let failure: Error | undefined;
  let wake: (() => void) | undefined;
  const poke = (): void => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  const onData = (chunk: Buffer): void => {
    queue.push(chunk);
    queued += chunk.length;
    if (queued >= max) body.pause();
    poke();
  };
  const onEnd = (): void => {
    ended = true;
    poke();
  };
  const onError = (err: Error): void => {
    failure ??= err;
    poke();
  };
  const onClose = (): void => {
    if (!ended) failure ??= body.errored ?? new Error('upstream body closed early');
    poke();
  };
  // The body may have ended or broken before anyone listened: its events are gone.
  if (body.readableEnded) ended = true;
  else if (body.destroyed) failure = body.errored ?? new Error('upstream body closed early');
  body.on('data', onData);
  body.on('end', onEnd);
  body.on('error', onError);
  body.on('close', onClose);
  try {
    for (;;) {
      if (queue.length > 0) {
        const out = queue;
        queue = [];
        queued = 0;
        if (!ended && !body.destroyed) body.resume();
        yield out;
        continue;
      }
      if (failure) throw failure;
      if (ended) return;
      await new Promise<void>((resolve) => (wake = resolve));
    }
  } finally {
    body.off('data', onData);
    body.off('end', onEnd);
    body.off('close', onClose);
    // A body left before its end may still fail; its owner discards it, but not in this tick.
    if (ended) body.off('error', onError);
  }
}
