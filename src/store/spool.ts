/**
 * A blob's local spool file. Bytes land at their offsets, in any order (one stream, or several
 * ranged parts at once); the digest is computed in order over the contiguous prefix as it grows,
 * so it covers every byte exactly once. Nothing is made visible here: the store's writer checks
 * the digest and size (`mismatch`) before it renames or uploads anything. Shared by every backend.
 */
import { randomBytes } from 'node:crypto';
import { open, rm, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { Digest } from '../oci/digest.js';
import { DigestCheck } from '../oci/digest-check.js';
import type { PartialReader } from './blob-store.js';
import { DigestMismatchError } from './blob-store.js';
import { Extents } from './extents.js';

/** Bytes written ahead of the prefix are hashed later, read back from the file in blocks this big. */
const READ_BACK = 1024 * 1024;

/** Receives the blob's bytes in order, exactly once each (the hash, an upload stream). */
export type OrderedSink = (chunks: readonly Buffer[]) => void | Promise<void>;

class FilePartial implements PartialReader {
  constructor(private readonly fh: FileHandle) {}

  async read(target: Buffer, position: number): Promise<number> {
    const { bytesRead } = await this.fh.read(target, 0, target.length, position);
    return bytesRead;
  }

  async close(): Promise<void> {
    await this.fh.close();
  }
}

export class Spool {
  private readonly check: DigestCheck;
  private readonly extents = new Extents();
  /** Bytes handed to the ordered sinks (hashed) so far: always a prefix of `extents`. */
  private ordered = 0;
  /** Where ordered delivery will have reached once every step already queued has run. */
  private scheduled = 0;
  /** Ordered delivery runs one step at a time, whatever order the writes finish in. */
  private delivering: Promise<void> = Promise.resolve();
  private closed = false;

  private constructor(
    private readonly fh: FileHandle,
    readonly tempPath: string,
    expected: Digest,
    expectedSize: number | undefined,
    private readonly sinks: readonly OrderedSink[],
  ) {
    this.check = new DigestCheck(expected, expectedSize);
  }

  static async create(tmpDir: string, expected: Digest, expectedSize: number | undefined, sink?: OrderedSink): Promise<Spool> {
    const tempPath = join(tmpDir, `${expected.hex.slice(0, 16)}-${randomBytes(6).toString('hex')}`);
    const fh = await open(tempPath, 'wx+');
    // The hash goes first: a sink that fails (an upload) must not leave the digest behind.
    let spool: Spool | undefined;
    const hashSink: OrderedSink = (chunks) => {
      for (const c of chunks) spool!.check.update(c);
    };
    spool = new Spool(fh, tempPath, expected, expectedSize, sink ? [hashSink, sink] : [hashSink]);
    return spool;
  }

  /** Bytes written contiguously from offset 0: what readers may read. */
  get contiguous(): number {
    return this.extents.prefix;
  }

  /** Writes bytes at `position`; resolves with the contiguous prefix once they are in the file. */
  async writeAt(position: number, chunks: readonly Buffer[]): Promise<number> {
    let total = 0;
    for (const c of chunks) total += c.length;
    if (total === 0) return this.extents.prefix;
    const { bytesWritten } = await this.fh.writev(chunks as Buffer[], position);
    if (bytesWritten !== total) throw new Error('short write to spool file');
    this.extents.add(position, position + total);
    // In-order bytes are delivered from memory; bytes that arrived early are read back later.
    await this.deliver(position === this.scheduled ? { position, chunks } : undefined);
    return this.extents.prefix;
  }

  private deliver(fresh: { position: number; chunks: readonly Buffer[] } | undefined): Promise<void> {
    const target = this.extents.prefix;
    if (target <= this.scheduled) return this.delivering;
    const from = this.scheduled;
    this.scheduled = target;
    const step = async (): Promise<void> => {
      let pos = from;
      if (fresh && fresh.position === from) {
        await this.toSinks(fresh.chunks);
        for (const c of fresh.chunks) pos += c.length;
      }
      while (pos < target) {
        const block = Buffer.allocUnsafe(Math.min(READ_BACK, target - pos));
        const { bytesRead } = await this.fh.read(block, 0, block.length, pos);
        if (bytesRead === 0) throw new Error('spool file shorter than written');
        await this.toSinks([block.subarray(0, bytesRead)]);
        pos += bytesRead;
      }
      this.ordered = pos;
    };
    this.delivering = this.delivering.then(step);
    return this.delivering;
  }

  private async toSinks(chunks: readonly Buffer[]): Promise<void> {
    for (const sink of this.sinks) await sink(chunks);
  }

  /** A reader over the bytes written so far; undefined once the file is gone (renamed, removed). */
  async openReader(): Promise<PartialReader | undefined> {
    if (this.closed) return undefined;
    return Spool.follow(this.tempPath);
  }

  /** A reader of a spool file by path (another process's): undefined once it is gone. */
  static async follow(path: string): Promise<PartialReader | undefined> {
    try {
      return new FilePartial(await open(path, 'r'));
    } catch {
      return undefined;
    }
  }

  private verdict: Promise<void> | undefined;

  /**
   * Resolves once every byte is in and matches the expected digest and size; otherwise discards
   * the spool and rejects with a DigestMismatchError. Checked once, however often it is asked.
   */
  verify(): Promise<void> {
    this.verdict ??= this.mismatch().then(async (mismatch) => {
      if (!mismatch) return;
      await this.discard();
      throw mismatch;
    });
    return this.verdict;
  }

  private async mismatch(): Promise<DigestMismatchError | undefined> {
    await this.delivering;
    const size = this.ordered;
    const { ok, actual } = this.check.finish();
    const complete = size === this.extents.end && this.extents.count <= 1;
    if (complete && ok) return undefined;
    return new DigestMismatchError(this.check.expected.value, actual, this.check.expectedSize, size);
  }

  /** Bytes verified in order; the blob's size once `mismatch` found none. */
  get bytes(): number {
    return this.ordered;
  }

  async datasync(): Promise<void> {
    await this.fh.datasync();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.delivering.catch(() => undefined);
    await this.fh.close();
  }

  async discard(): Promise<void> {
    await this.close();
    await rm(this.tempPath, { force: true });
  }
}
