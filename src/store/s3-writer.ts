/**
 * One blob write to object storage: every chunk goes to a local spool file (for local
 * readers) and into a streamed multipart upload to the final key. The upload stream is ended
 * only after the digest and size check passed, so S3 completes the object only for verified
 * content; on a mismatch or abort the stream is destroyed and the upload aborted. Memory use is
 * bounded by partSize × queueSize.
 */
import { HeadObjectCommand, DeleteObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { randomBytes, type Hash } from 'node:crypto';
import { once } from 'node:events';
import { open, rm, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { newHasher, type Digest } from '../oci/digest.js';
import { DigestMismatchError, type BlobWriter } from './blob-store.js';

/** Takes over a verified, committed spool file (e.g. into a local cache); false = remove it. */
export type SpoolAdopter = (digest: Digest, path: string, size: number) => Promise<boolean>;

export interface S3WriteOptions {
  readonly client: S3Client;
  readonly bucket: string;
  readonly key: string;
  readonly tmpDir: string;
  readonly expected: Digest;
  readonly expectedSize?: number;
  readonly partSize: number;
  readonly queueSize: number;
  readonly committed: (size: number) => void;
  readonly adopt?: SpoolAdopter;
}

class UploadAborted extends Error {
  constructor() {
    super('upload aborted before commit');
  }
}

export class S3BlobWriter implements BlobWriter {
  private readonly hash: Hash;
  private bytes = 0;
  private closed = false;
  private failure: unknown;
  private readonly uploaded: Promise<void>;

  private constructor(
    private readonly opts: S3WriteOptions,
    private readonly fh: FileHandle,
    readonly tempPath: string,
    private readonly body: PassThrough,
  ) {
    this.hash = newHasher(opts.expected.algorithm);
    const upload = new Upload({
      client: opts.client,
      params: { Bucket: opts.bucket, Key: opts.key, Body: body, ContentType: 'application/octet-stream' },
      partSize: opts.partSize,
      queueSize: opts.queueSize,
      leavePartsOnError: false,
    });
    this.uploaded = upload.done().then(
      () => undefined,
      (err: unknown) => {
        this.failure ??= err;
        // Let a writer blocked on backpressure see the failure.
        body.emit('drain');
        throw err;
      },
    );
    this.uploaded.catch(() => undefined);
  }

  static async start(opts: S3WriteOptions): Promise<S3BlobWriter> {
    const tempPath = join(opts.tmpDir, `${opts.expected.hex.slice(0, 16)}-${randomBytes(6).toString('hex')}`);
    const fh = await open(tempPath, 'wx');
    return new S3BlobWriter(opts, fh, tempPath, new PassThrough({ highWaterMark: 1024 * 1024 }));
  }

  get written(): number {
    return this.bytes;
  }

  async write(chunks: readonly Buffer[]): Promise<void> {
    if (this.failure !== undefined) throw this.failure;
    let total = 0;
    for (const c of chunks) {
      this.hash.update(c);
      total += c.length;
    }
    const { bytesWritten } = await this.fh.writev(chunks as Buffer[]);
    if (bytesWritten !== total) throw new Error('short write to spool file');
    this.bytes += total;
    for (const c of chunks) {
      if (!this.body.write(c)) await once(this.body, 'drain');
      if (this.failure !== undefined) throw this.failure;
    }
  }

  async commit(): Promise<void> {
    const actual = `${this.opts.expected.algorithm}:${this.hash.digest('hex')}`;
    const { expected, expectedSize } = this.opts;
    if (actual !== expected.value || (expectedSize !== undefined && expectedSize !== this.bytes)) {
      await this.abort();
      throw new DigestMismatchError(expected.value, actual, expectedSize, this.bytes);
    }
    this.body.end();
    try {
      await this.uploaded;
      await this.checkStored();
    } catch (err) {
      await this.discardSpool();
      throw err;
    }
    await this.close();
    const kept = this.opts.adopt ? await this.opts.adopt(expected, this.tempPath, this.bytes).catch(() => false) : false;
    if (!kept) await rm(this.tempPath, { force: true });
    this.opts.committed(this.bytes);
  }

  async abort(): Promise<void> {
    if (!this.body.destroyed && !this.body.writableEnded) this.body.destroy(new UploadAborted());
    await this.uploaded.catch(() => undefined);
    await this.discardSpool();
  }

  /** The stored object must have the verified size (some gateways return no ETag to compare). */
  private async checkStored(): Promise<void> {
    const { client, bucket, key } = this.opts;
    const head = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    if (head.ContentLength === this.bytes) return;
    await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
    throw new Error('stored object has the wrong size');
  }

  private async discardSpool(): Promise<void> {
    await this.close();
    await rm(this.tempPath, { force: true });
  }

  private async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.fh.close();
  }
}
