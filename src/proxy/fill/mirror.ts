/**
 * A fill that another node owns, mirrored here: the owner's bytes stream into this node's own
 * writer as they arrive and are hashed here, so this node's readers follow its own spool at
 * once and get the last byte only once this node verified the digest. When the owner's stream
 * breaks (the owner died), the fill is claimed again from the bytes already here: from the
 * next owner's stream, from the store (someone committed it), or, as the new owner, with one
 * upstream Range request for the rest.
 */
import type { Readable } from 'node:stream';
import type { Digest } from '../../oci/digest.js';
import type { BlobWriter, ByteRange } from '../../store/blob-store.js';
import { discard } from '../../util/discard.js';
import type { FillClaim, PeerClaim } from './contract.js';
import type { Permits } from './permits.js';
import { copyBody, fetchStream, StoreWriteError, type StreamFetchDeps } from './stream-fetch.js';

/** Claims after a broken stream before the fill gives up (each one waits for a lease). */
const MAX_CLAIMS = 4;

type OwnerClaim = Extract<FillClaim, { kind: 'owner' }>;

/** What the mirror needs of its fill. */
export interface MirrorSide {
  readonly digest: Digest;
  readonly permits: Permits;
  readonly signal: AbortSignal;
  /** Opens this node's writer; readers follow it from now on. Undefined: the store refused. */
  begin(size: number): Promise<BlobWriter | undefined>;
  /** Bytes contiguous from offset 0 in the writer. */
  available(): number;
  /** How bytes are written; `upstream`: they come from the upstream (not a peer or the store). */
  deps(writer: BlobWriter, upstream: boolean): StreamFetchDeps;
  claim(from: number): Promise<FillClaim>;
  openStored(range: ByteRange): Promise<Readable | undefined>;
  /**
   * Verifies the digest (then readers get the last byte) and makes the blob stored: committed
   * here unless `storedElsewhere` says another node stored it. Whether it is stored.
   */
  finish(writer: BlobWriter, storedElsewhere?: () => Promise<boolean>): Promise<boolean>;
  fail(err: unknown): Promise<void>;
}

export async function mirror(side: MirrorSide, first: PeerClaim): Promise<void> {
  const writer = await side.begin(first.size);
  if (!writer) {
    discard(first.body);
    first.close();
    return;
  }
  let claim: FillClaim = first;
  for (let claims = 1; ; claims++) {
    if (claim.kind === 'owner') return owned(side, claim, writer, side.deps(writer, true), first.size);
    try {
      await copy(side, claim, side.deps(writer, false), first.size);
    } catch (err) {
      if (claim.kind === 'peer') claim.close();
      if (err instanceof StoreWriteError || claims >= MAX_CLAIMS || side.signal.aborted) return side.fail(err);
      claim = await side.claim(side.available());
      continue;
    }
    // Bytes read from the store are stored already; a peer's owner says whether it stored them.
    await side.finish(writer, claim.kind === 'peer' ? claim.settled : async () => true);
    return;
  }
}

/** Copies the rest of the blob from a peer's stream or from the store. */
async function copy(side: MirrorSide, claim: Exclude<FillClaim, OwnerClaim>, deps: StreamFetchDeps, size: number): Promise<void> {
  const from = side.available();
  let body: Readable | undefined;
  if (claim.kind === 'peer') {
    body = claim.body;
    if (claim.from !== from) {
      discard(body);
      throw new Error('peer stream starts at another offset');
    }
  } else if (claim.kind === 'stored') {
    body = from < size ? await side.openStored({ start: from, end: size - 1 }) : undefined;
    if (from < size && !body) throw new Error('stored blob vanished');
  } else {
    throw new Error('a worker fill cannot be mirrored');
  }
  if (!body) return;
  // Shutdown or the fill's time limit ends the copy too, not only the peer.
  const stop = (): void => void body.destroy(new Error('fill aborted'));
  side.signal.addEventListener('abort', stop, { once: true });
  try {
    await copyBody(body, from, 0, size, deps.write, () => undefined);
  } catch (err) {
    discard(body);
    throw err;
  } finally {
    side.signal.removeEventListener('abort', stop);
  }
}

/** This node now owns the fill: one upstream Range request for the bytes it does not have. */
async function owned(side: MirrorSide, claim: OwnerClaim, writer: BlobWriter, deps: StreamFetchDeps, size: number): Promise<void> {
  let stored = false;
  try {
    await side.permits.take();
    try {
      const from = side.available();
      if (from < size) {
        const first = await deps.upstream.getBlob(deps.repository, side.digest.value, { from, signal: side.signal });
        if (first.kind !== 'found') throw new Error(`upstream answered ${first.kind}`);
        if (first.value.start > from) {
          discard(first.value.body);
          throw new Error('upstream answered with another range');
        }
        await fetchStream(deps, first.value, from);
      }
    } finally {
      side.permits.give();
    }
    stored = await side.finish(writer);
  } catch (err) {
    await side.fail(err);
  } finally {
    await claim.release(stored);
  }
}
