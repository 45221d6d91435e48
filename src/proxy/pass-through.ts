/**
 * A blob served straight from upstream, for when the store cannot take it (disk full,
 * read-only): one upstream GET per client, nothing written. A whole body is hashed on the way
 * and its last byte held back until size and digest match, so a wrong body can only end short.
 * A range cannot be verified on its own; it is relayed as the upstream sent it.
 */
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import type { Digest } from '../oci/digest.js';
import { DigestCheck } from '../oci/digest-check.js';
import { RegistryError } from '../oci/errors.js';
import type { ByteRange } from '../store/blob-store.js';
import { detailOf } from '../upstream/cause-detail.js';
import { unreachable } from '../upstream/error-cause.js';
import type { Outcome, Upstream } from '../upstream/types.js';
import { discard } from '../util/discard.js';
import type { BlobSource } from './blob-source.js';

class Verified extends Transform {
  private readonly check: DigestCheck;
  private last: Buffer | undefined;

  constructor(digest: Digest, size: number) {
    super();
    this.check = new DigestCheck(digest, size);
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.check.update(chunk);
    if (this.check.overrun) return cb(new Error('upstream sent more than the blob size'));
    if (this.check.bytes === this.check.expectedSize && chunk.length > 0) {
      this.last = chunk.subarray(chunk.length - 1);
      chunk = chunk.subarray(0, chunk.length - 1);
    }
    cb(null, chunk.length > 0 ? chunk : undefined);
  }

  override _flush(cb: TransformCallback): void {
    if (!this.check.finish().ok) return cb(new Error('upstream body does not match its digest or size'));
    cb(null, this.last);
  }
}

/** Drops `skip` leading bytes, passes `length` bytes, and fails if the body ends before that. */
class Slice extends Transform {
  private passed = 0;

  constructor(
    private skip: number,
    private readonly length: number,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    if (this.skip > 0) {
      const drop = Math.min(this.skip, chunk.length);
      this.skip -= drop;
      chunk = chunk.subarray(drop);
    }
    const take = Math.min(chunk.length, this.length - this.passed);
    this.passed += take;
    if (take > 0) this.push(chunk.subarray(0, take));
    // Enough bytes: end here rather than reading the rest of an upstream that ignored the range.
    if (this.passed === this.length) {
      this.push(null);
      return cb();
    }
    cb();
  }

  override _flush(cb: TransformCallback): void {
    cb(this.passed === this.length ? null : new Error('upstream body ended short'));
  }
}

/** Pipes an upstream body through a check; whichever side finishes first releases the other. */
function relay(body: Readable, through: Transform): Readable {
  const broken = (err: Error): void => void through.destroy(err);
  body.on('error', broken);
  const release = (): void => {
    // What the client needed is out; the rest of the upstream body is not wanted.
    body.off('error', broken);
    discard(body);
  };
  through.once('end', release);
  through.once('close', release);
  return body.pipe(through);
}

/** Asks upstream for the blob and, if found, offers it as a source that caches nothing. */
export async function passThrough(upstream: Upstream, repository: string, digest: Digest): Promise<Outcome<BlobSource>> {
  const first = await upstream.getBlob(repository, digest.value, { from: 0 });
  if (first.kind !== 'found') return first;
  const { size, body } = first.value;
  if (size < 0 || first.value.start !== 0) {
    discard(body);
    return unreachable('invalid', 'upstream gave no blob size', upstream);
  }
  const open = async (range?: ByteRange): Promise<Readable> => {
    if (!range || (range.start === 0 && range.end >= size - 1)) return relay(body, new Verified(digest, size));
    discard(body);
    const part = await upstream.getBlob(repository, digest.value, { from: range.start });
    if (part.kind !== 'found') throw new RegistryError('UNAVAILABLE', 'upstream unavailable', 'cause' in part ? detailOf(part.cause) : undefined);
    const skip = Math.max(0, range.start - part.value.start);
    return relay(part.value.body, new Slice(skip, range.end - range.start + 1));
  };
  return { kind: 'found', value: { size, cache: 'MISS', open, discard: () => discard(body) } };
}
