import { createCipheriv, createHash } from 'node:crypto';
import { Readable } from 'node:stream';

/** Content of one blob: either bytes in memory or a seeded generator of `size` bytes. */
export interface BlobContent {
  digest: string;
  size: number;
  mediaType: string;
  /** Fresh iterator over the exact bytes, chunk by chunk (never the whole blob at once). */
  chunks(): Iterable<Buffer>;
}

export const CHUNK = 1 << 20;

export function sha256Hex(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

export function sha256Digest(data: Buffer | string): string {
  return `sha256:${sha256Hex(data)}`;
}

/** A 512-byte tar-like header naming the layer, so the bytes never look compressed. */
function header(name: string): Buffer {
  const h = Buffer.alloc(512);
  h.write(name.slice(0, 99), 0, 'ascii');
  h.write('0000644\0', 100, 'ascii');
  h.write('ustar\0' + '00', 257, 'ascii');
  return h;
}

/**
 * Deterministic pseudo-random bytes: AES-256-CTR keystream keyed by sha256(seed),
 * after a tar-like header. Fast (GB/s) and never buffers more than one chunk.
 */
export function* seededBytes(seed: string, size: number, chunkSize = CHUNK): Generator<Buffer> {
  const key = createHash('sha256').update(`berth-blob:${seed}`).digest();
  const cipher = createCipheriv('aes-256-ctr', key, Buffer.alloc(16));
  const zeros = Buffer.alloc(chunkSize);
  const head = header(`layer-${seed}.bin`);
  let produced = 0;
  while (produced < size) {
    const n = Math.min(chunkSize, size - produced);
    const chunk = cipher.update(zeros.subarray(0, n));
    if (produced < head.length) {
      const h = head.subarray(produced, Math.min(head.length, produced + n));
      h.copy(chunk, 0);
    }
    produced += n;
    yield chunk;
  }
}

/** Digest of a seeded blob, computed by streaming it once. */
export function seededDigest(seed: string, size: number): string {
  const h = createHash('sha256');
  for (const c of seededBytes(seed, size)) h.update(c);
  return `sha256:${h.digest('hex')}`;
}

const digestMemo = new Map<string, string>();

export function seededBlob(seed: string, size: number, mediaType: string): BlobContent {
  const memoKey = `${seed}/${size}`;
  let digest = digestMemo.get(memoKey);
  if (digest === undefined) {
    digest = seededDigest(seed, size);
    digestMemo.set(memoKey, digest);
  }
  return { digest, size, mediaType, chunks: () => seededBytes(seed, size) };
}

export function bytesBlob(bytes: Buffer, mediaType: string): BlobContent {
  return { digest: sha256Digest(bytes), size: bytes.length, mediaType, chunks: () => [bytes] };
}

/** A Readable over the blob's bytes with normal stream backpressure. */
export function blobStream(blob: BlobContent): Readable {
  return Readable.from(blob.chunks(), { objectMode: false });
}
