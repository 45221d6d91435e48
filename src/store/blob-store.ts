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

/** Positional reads of a write in progress: bytes below the writer's contiguous prefix. */
export interface PartialReader {
  /** Fills `target` from `position`; resolves with the byte count (0 past what was written). */
  read(target: Buffer, position: number): Promise<number>;
  close(): Promise<void>;
}

/**
 * An in-progress write. Bytes land at their offsets in a local spool, in any order; nothing is
 * visible under the digest until `verify` checked digest and size and `commit` made it durable.
 */
export interface BlobWriter {
  /**
   * An opaque name of the spool that another process on this node can pass to the store's
   * `follow` (workers following a fill); absent where the spool is not shared.
   */
  readonly spoolName?: string;
  /** Writes bytes at `position`; resolves with the bytes now contiguous from offset 0. */
  writeAt(position: number, chunks: readonly Buffer[]): Promise<number>;
  /** A reader that follows this write (readers keep it after commit); undefined once it ended. */
  openPartial(): Promise<PartialReader | undefined>;
  /** Rejects with a DigestMismatchError, and discards the bytes, when the content is wrong. */
  verify(): Promise<void>;
  /** Makes the verified blob visible under its digest, durably; verifies first if not yet done. */
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

export interface BeginOptions {
  /**
   * The bytes mirror a fill another node is storing: keep them local (readers, hash) and send
   * them to shared storage only at `commit`, which then uploads the verified file.
   */
  readonly mirror?: boolean;
}

export interface BlobStore extends BlobReader {
  begin(expected: Digest, expectedSize?: number, opts?: BeginOptions): Promise<BlobWriter>;
  /** Small content (manifests): verified and committed in one call. */
  put(expected: Digest, bytes: Uint8Array): Promise<void>;
  readAll(digest: Digest): Promise<Buffer | undefined>;
  remove(digest: Digest): Promise<void>;
  list(): AsyncIterable<StoredBlob>;
  /** Removes temp files left by a previous process; returns how many. */
  sweep(): Promise<number>;
  /** Reads another process's write in progress by its spool name; undefined once it is gone. */
  follow?(spool: string): Promise<PartialReader | undefined>;
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
