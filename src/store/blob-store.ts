/** The content-addressed store's interfaces. A second backend implements the same shapes. */
import type { Readable } from 'node:stream';
import type { Digest } from '../oci/digest.js';

export interface BlobInfo {
  readonly size: number;
}

export interface ByteRange {
  readonly start: number;
  /** Inclusive. */
  readonly end: number;
}

export interface BlobReader {
  stat(digest: Digest): Promise<BlobInfo | undefined>;
  /** A stream of the committed blob (or a range of it); undefined when absent. */
  open(digest: Digest, range?: ByteRange): Promise<Readable | undefined>;
}

/**
 * An in-progress write. Bytes land in a local temp file (which concurrent readers may tail);
 * nothing is visible under the digest until commit verifies digest and size.
 */
export interface BlobWriter {
  readonly tempPath: string;
  readonly written: number;
  write(chunks: readonly Buffer[]): Promise<void>;
  /** Rejects with a DigestMismatchError and removes the temp file when the content is wrong. */
  commit(): Promise<void>;
  abort(): Promise<void>;
}

export interface StoredBlob {
  readonly digest: string;
  readonly size: number;
  readonly atimeMs: number;
  /** Last write (for a committed blob: when it was filled). */
  readonly mtimeMs?: number;
}

export interface BlobStore extends BlobReader {
  begin(expected: Digest, expectedSize?: number): Promise<BlobWriter>;
  /** Small content (manifests): verified and committed in one call. */
  put(expected: Digest, bytes: Uint8Array): Promise<void>;
  readAll(digest: Digest): Promise<Buffer | undefined>;
  remove(digest: Digest): Promise<void>;
  list(): AsyncIterable<StoredBlob>;
  /** Removes temp files left by a previous process; returns how many. */
  sweep(): Promise<number>;
}

export class DigestMismatchError extends Error {
  constructor(
    readonly expected: string,
    readonly actual: string,
    readonly expectedSize: number | undefined,
    readonly actualSize: number,
  ) {
    super('content does not match its digest or size');
  }
}
