/**
 * One blob write to object storage: every chunk goes to a local spool file (for local
 * readers), and the spool's bytes, in order, into a streamed multipart upload to the final key
 * (parts that arrive early are read back from the spool when their turn comes). The upload stream is ended
 * only after the digest and size check passed, so S3 completes the object only for verified
 * content; on a mismatch or abort the stream is destroyed and the upload aborted. Memory use is
 * bounded by partSize × queueSize. A deferred writer (a mirror of another node's fill, usually
 * aborted once that node stored the blob) uploads nothing until its commit, then the verified file.
 */
import { HeadObjectCommand, DeleteObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { once } from 'node:events';
import { createReadStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { PassThrough, type Readable } from 'node:stream';
import type { Digest } from '../oci/digest.js';
import type { BlobWriter, PartialReader } from './blob-store.js';
import { Spool } from './spool.js';

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
  /** Upload nothing until `commit`, then the verified spool file (a mirror of another node's fill). */
  readonly deferred?: boolean;
}

class UploadAborted extends Error {
  constructor() {
    super('upload aborted before commit');
  }
}

export class S3BlobWriter implements BlobWriter {
  private failure: unknown;
  private uploaded: Promise<void> | undefined;

  private constructor(
    private readonly opts: S3WriteOptions,
    private readonly spool: Spool,
    /** The streamed upload's input; absent while the upload is deferred to the commit. */
    private readonly body: PassThrough | undefined,
  ) {
    if (body) this.uploaded = this.upload(body);
  }

  private upload(body: Readable): Promise<void> {
    const { opts } = this;
    const upload = new Upload({
      client: opts.client,
      params: { Bucket: opts.bucket, Key: opts.key, Body: body, ContentType: 'application/octet-stream' },
      partSize: opts.partSize,
      queueSize: opts.queueSize,
      leavePartsOnError: false,
    });
    const uploaded = upload.done().then(
      () => undefined,
      (err: unknown) => {
        this.failure ??= err;
        // Let a writer blocked on backpressure see the failure.
        body.emit('drain');
        throw err;
      },
    );
    uploaded.catch(() => undefined);
    return uploaded;
  }

  static async start(opts: S3WriteOptions): Promise<S3BlobWriter> {
    if (opts.deferred) return new S3BlobWriter(opts, await Spool.create(opts.tmpDir, opts.expected, opts.expectedSize), undefined);
    const body = new PassThrough({ highWaterMark: 1024 * 1024 });
    let writer: S3BlobWriter | undefined;
    const spool = await Spool.create(opts.tmpDir, opts.expected, opts.expectedSize, (chunks) => writer!.send(body, chunks));
    writer = new S3BlobWriter(opts, spool, body);
    return writer;
  }

  private async send(body: PassThrough, chunks: readonly Buffer[]): Promise<void> {
    if (this.failure !== undefined) throw this.failure;
    for (const c of chunks) {
      if (!body.write(c)) await once(body, 'drain');
      if (this.failure !== undefined) throw this.failure;
    }
  }

  async writeAt(position: number, chunks: readonly Buffer[]): Promise<number> {
    if (this.failure !== undefined) throw this.failure;
    return this.spool.writeAt(position, chunks);
  }

  openPartial(): Promise<PartialReader | undefined> {
    return this.spool.openReader();
  }

  async verify(): Promise<void> {
    try {
      await this.spool.verify();
    } catch (err) {
      // The upload is stopped too: S3 never completes an object from unverified bytes.
      await this.abort();
      throw err;
    }
  }

  async commit(): Promise<void> {
    await this.verify();
    const { expected } = this.opts;
    if (this.body) this.body.end();
    else this.uploaded = this.upload(createReadStream(this.spool.tempPath));
    try {
      await this.uploaded;
      await this.checkStored();
    } catch (err) {
      await this.spool.discard();
      throw err;
    }
    await this.spool.close();
    const kept = this.opts.adopt ? await this.opts.adopt(expected, this.spool.tempPath, this.spool.bytes).catch(() => false) : false;
    if (!kept) await rm(this.spool.tempPath, { force: true });
    this.opts.committed(this.spool.bytes);
  }

  async abort(): Promise<void> {
    if (this.body && !this.body.destroyed && !this.body.writableEnded) this.body.destroy(new UploadAborted());
    await this.uploaded?.catch(() => undefined);
    await this.spool.discard();
  }

  /** The stored object must have the verified size (some gateways return no ETag to compare). */
  private async checkStored(): Promise<void> {
    const { client, bucket, key } = this.opts;
    const head = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    if (head.ContentLength === this.spool.bytes) return;
    await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
    throw new Error('stored object has the wrong size');
  }
}
