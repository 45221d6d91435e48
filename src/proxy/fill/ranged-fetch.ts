/**
 * A large blob fetched as ranged parts over several upstream connections at once. The parts
 * are handed out in order, so the contiguous prefix (what waiters stream, and what is hashed)
 * advances steadily. A part that breaks is resumed alone from its own last byte; a part that
 * cannot be finished fails the whole fill. A CDN URL the registry redirected to is reused for
 * every part, without credentials, until it expires (403, 400): then the registry is asked again.
 */
import type { BlobBody } from '../../upstream/types.js';
import { discard } from '../../util/discard.js';
import type { Permits } from './permits.js';
import { copyBody, StoreWriteError, type StreamFetchDeps } from './stream-fetch.js';

export interface RangedPlan {
  /** Upstream connections for this blob, the first one included. */
  readonly connections: number;
  readonly permits: Permits;
}

interface Part {
  readonly start: number;
  readonly end: number;
}

const MiB = 1024 * 1024;

/** Parts small enough that every connection takes several (a steady prefix), large enough to be few requests. */
function partSize(remaining: number, connections: number): number {
  return Math.max(4 * MiB, Math.min(64 * MiB, Math.ceil(remaining / (connections * 4))));
}

function plan(from: number, size: number, connections: number): Part[] {
  const step = partSize(size - from, connections);
  const parts: Part[] = [];
  for (let start = from; start < size; start += step) parts.push({ start, end: Math.min(size, start + step) });
  return parts;
}

/** Resolves with the number of connections used once every part is written. */
export async function fetchRanged(deps: StreamFetchDeps, first: BlobBody, ranged: RangedPlan): Promise<number> {
  const queue = plan(first.end, first.size, ranged.connections);
  let location = first.location;
  // A failed part stops every connection: the fill is over.
  const stop = new AbortController();
  const signal = AbortSignal.any([deps.signal, stop.signal]);

  /** Fetches [pos, part.end), resuming from the last byte written, a bounded number of times. */
  const fetchPart = async (part: Part): Promise<void> => {
    let pos = part.start;
    for (let attempt = 0; ; attempt++) {
      const via = location;
      const got = await deps.upstream.getBlob(deps.repository, deps.digest.value, { from: pos, to: part.end, signal, ...(via ? { location: via } : {}) });
      if (got.kind !== 'found') {
        // A signed URL that expired: the registry hands out a fresh one.
        if (via && (got.kind === 'denied' || (got.kind === 'unreachable' && got.cause.status === 400)) && attempt < deps.maxResumes) {
          if (location === via) location = undefined;
          continue;
        }
        throw new Error(`part ${part.start}-${part.end}: ${got.kind}`);
      }
      const body = got.value;
      location ??= body.location;
      // The part must come back as asked: a 200 or another range cannot be placed.
      if (body.start !== pos || body.size !== first.size || body.end < part.end) {
        discard(body.body);
        throw new Error('upstream answered a part with other bytes');
      }
      try {
        await copyBody(body.body, pos, 0, part.end, deps.write, (p) => (pos = p));
        return;
      } catch (err) {
        discard(body.body);
        if (err instanceof StoreWriteError || signal.aborted || attempt >= deps.maxResumes) throw err;
        deps.onResume();
      }
    }
  };

  const worker = async (head?: () => Promise<void>): Promise<void> => {
    if (head) await head();
    for (let part = queue.shift(); part; part = queue.shift()) await fetchPart(part);
  };

  // The first connection finishes the part it already has, then takes parts like the others.
  const firstPart = async (): Promise<void> => {
    let pos = 0;
    try {
      await copyBody(first.body, 0, 0, first.end, deps.write, (p) => (pos = p));
    } catch (err) {
      discard(first.body);
      if (err instanceof StoreWriteError || signal.aborted) throw err;
      deps.onResume();
      await fetchPart({ start: pos, end: first.end });
    }
  };
  const extra: Array<Promise<void>> = [];
  for (let i = 1; i < ranged.connections && queue.length > 0 && ranged.permits.tryTake(); i++) {
    extra.push(worker().finally(() => ranged.permits.give()));
  }
  let cause: unknown;
  const all = [worker(firstPart), ...extra].map((p) =>
    p.catch((err: unknown) => {
      cause ??= err;
      stop.abort();
    }),
  );
  await Promise.all(all);
  if (cause !== undefined) throw cause;
  return 1 + extra.length;
}
