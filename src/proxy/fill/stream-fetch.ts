/**
 * A blob fetched as one upstream stream into the writer, in order. A body that breaks is
 * resumed with a Range request from the first byte not yet written (byte 0 included), a bounded
 * number of times; an upstream that ignores the Range re-sends bytes that are skipped here.
 */
import type { Readable } from 'node:stream';
import type { Digest } from '../../oci/digest.js';
import type { BlobBody, Upstream } from '../../upstream/types.js';
import { discard } from '../../util/discard.js';
import { batches } from './batches.js';

/** Bytes per writev: large enough for few syscalls, small enough to stay light. */
const BATCH = 1024 * 1024;

/** The store, not the upstream, failed: resuming the download would not help. */
export class StoreWriteError extends Error {
  constructor(readonly reason: unknown) {
    super(reason instanceof Error ? reason.message : 'store write failed');
  }
}

export interface StreamFetchDeps {
  readonly upstream: Upstream;
  readonly repository: string;
  readonly digest: Digest;
  readonly signal: AbortSignal;
  readonly maxResumes: number;
  /** Writes bytes at their offset into the spool; rejects with StoreWriteError. */
  write(position: number, chunks: readonly Buffer[]): Promise<void>;
  onResume(): void;
}

function skipped(chunks: Buffer[], skip: number): { chunks: Buffer[]; skip: number } {
  const out: Buffer[] = [];
  for (const b of chunks) {
    if (skip >= b.length) {
      skip -= b.length;
      continue;
    }
    out.push(skip > 0 ? b.subarray(skip) : b);
    skip = 0;
  }
  return { chunks: out, skip };
}

/** Copies `body` from blob offset `start` (skipping `skip` bytes first) to `end` (exclusive, or -1). */
export async function copyBody(body: Readable, start: number, skip: number, end: number, write: StreamFetchDeps['write'], written: (pos: number) => void): Promise<void> {
  let pos = start;
  // One write in flight while the next batch is read; a break waits for it before returning.
  let inFlight: Promise<void> = Promise.resolve();
  try {
    for await (const raw of batches(body, BATCH)) {
      const cut = skipped(raw, skip);
      skip = cut.skip;
      if (cut.chunks.length === 0) continue;
      let n = 0;
      for (const c of cut.chunks) n += c.length;
      if (end >= 0 && pos + n > end) throw new Error('upstream sent more than the blob size');
      const at = pos;
      pos += n;
      await inFlight;
      inFlight = write(at, cut.chunks).then(() => written(at + n));
      // Handled here as well: a failed write surfaces at the next await, not as an unhandled rejection.
      inFlight.catch(() => undefined);
    }
  } finally {
    await inFlight;
  }
  if (end >= 0 && pos < end) throw new Error('upstream body ended short');
}

/**
 * Fills [from, size) from `first` (which starts at or before `from`); resolves when every byte
 * is written, rejects when it gave up.
 */
export async function fetchStream(deps: StreamFetchDeps, first: BlobBody, from = 0): Promise<void> {
  let body = first.body;
  let skip = from - first.start;
  let written = from;
  for (let resumes = 0; ; resumes++) {
    try {
      await copyBody(body, written, skip, first.size, deps.write, (pos) => (written = pos));
      return;
    } catch (err) {
      discard(body);
      if (err instanceof StoreWriteError || resumes >= deps.maxResumes || deps.signal.aborted) throw err;
      // Resuming from byte 0 is a plain retry: a reset before the first write is no different.
      const next = await deps.upstream.getBlob(deps.repository, deps.digest.value, { from: written, signal: deps.signal });
      if (next.kind !== 'found' || next.value.start > written) {
        if (next.kind === 'found') discard(next.value.body);
        throw err;
      }
      deps.onResume();
      skip = written - next.value.start;
      body = next.value.body;
    }
  }
}
