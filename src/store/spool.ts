/**
 * A blob's local spool file: bytes appended and hashed as they arrive, checked against the
 * expected digest and size before anything is made visible. Shared by every store backend.
 */
import { randomBytes, type Hash } from 'node:crypto';
import { open, rm, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { newHasher, type Digest } from '../oci/digest.js';
import { DigestMismatchError } from './blob-store.js';

export class Spool {
  private readonly hash: Hash;
  private size = 0;
  private closed = false;

  private constructor(
    private readonly fh: FileHandle,
    readonly tempPath: string,
    private readonly expected: Digest,
    private readonly expectedSize: number | undefined,
  ) {
    this.hash = newHasher(expected.algorithm);
  }

  static async create(tmpDir: string, expected: Digest, expectedSize: number | undefined): Promise<Spool> {
    const tempPath = join(tmpDir, `${expected.hex.slice(0, 16)}-${randomBytes(6).toString('hex')}`);
    return new Spool(await open(tempPath, 'wx'), tempPath, expected, expectedSize);
  }

  get bytes(): number {
    return this.size;
  }

  async append(chunks: readonly Buffer[]): Promise<void> {
    let total = 0;
    for (const c of chunks) {
      this.hash.update(c);
      total += c.length;
    }
    const { bytesWritten } = await this.fh.writev(chunks as Buffer[]);
    if (bytesWritten !== total) throw new Error('short write to spool file');
    this.size += total;
  }

  /** The mismatch, if the content is not what was expected; call once, when all bytes are in. */
  mismatch(): DigestMismatchError | undefined {
    const actual = `${this.expected.algorithm}:${this.hash.digest('hex')}`;
    if (actual === this.expected.value && (this.expectedSize === undefined || this.expectedSize === this.size)) return undefined;
    return new DigestMismatchError(this.expected.value, actual, this.expectedSize, this.size);
  }

  async datasync(): Promise<void> {
    await this.fh.datasync();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.fh.close();
  }

  async discard(): Promise<void> {
    await this.close();
    await rm(this.tempPath, { force: true });
  }
}
