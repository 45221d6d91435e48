/**
 * BlobStore on S3-compatible object storage (Ceph RGW, MinIO, AWS). Keys are content
 * addresses, `<prefix>blobs/<alg>/<hex>`. A write spools to a local temp file (which local
 * readers tail, as with the disk store) and, at the same time, streams a multipart upload to
 * the final key. The upload is completed only after commit() has verified digest and size
 * locally; a mismatch, an abort or a crash leaves an incomplete multipart upload, which S3
 * never shows as an object. So nothing unverified is ever visible under a blob's key.
 */
import {
  AbortMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { mkdir, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { digestOf, parseDigest, type Digest } from '../oci/digest.js';
import { DigestMismatchError, type BeginOptions, type BlobInfo, type BlobStore, type BlobWriter, type ByteRange, type StoredBlob } from './blob-store.js';
import type { StoreHooks } from './fs-blob-store.js';
import { layoutOf, type Layout } from './paths.js';
import { S3BlobWriter, type SpoolAdopter } from './s3-writer.js';

export interface S3StoreOptions {
  readonly client: S3Client;
  readonly bucket: string;
  /** Key prefix, '' or ending in '/'. */
  readonly prefix: string;
  /** Local directory for spool files (`tmp/`), manifest media types and state. */
  readonly localRoot: string;
  readonly partSize: number;
  readonly queueSize: number;
  /** Incomplete multipart uploads older than this are aborted by sweep(). */
  readonly staleUploadMs: number;
  readonly hooks?: StoreHooks;
  /** Takes a committed spool file (the local disk cache); else it is removed. */
  readonly adopt?: SpoolAdopter;
  /** A request failed for another reason than "not found"; the read is answered as a miss. */
  readonly onError?: (op: string, err: unknown) => void;
}

function isNotFound(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e.name === 'NotFound' || e.name === 'NoSuchKey' || e.$metadata?.httpStatusCode === 404;
}

export class S3BlobStore implements BlobStore {
  readonly layout: Layout;

  constructor(private readonly opts: S3StoreOptions) {
    this.layout = layoutOf(opts.localRoot);
  }

  async init(): Promise<void> {
    for (const d of [this.layout.tmp, this.layout.meta, this.layout.state]) await mkdir(d, { recursive: true });
  }

  /** Closes the client's connections. */
  async close(): Promise<void> {
    this.opts.client.destroy();
  }

  keyOf(digest: Digest): string {
    return `${this.opts.prefix}blobs/${digest.algorithm}/${digest.hex}`;
  }

  async stat(digest: Digest): Promise<BlobInfo | undefined> {
    try {
      const head = await this.opts.client.send(new HeadObjectCommand({ Bucket: this.opts.bucket, Key: this.keyOf(digest) }));
      return { size: head.ContentLength ?? 0 };
    } catch (err) {
      if (!isNotFound(err)) this.opts.onError?.('stat', err);
      return undefined;
    }
  }

  async open(digest: Digest, range?: ByteRange): Promise<Readable | undefined> {
    try {
      const got = await this.opts.client.send(
        new GetObjectCommand({ Bucket: this.opts.bucket, Key: this.keyOf(digest), ...(range ? { Range: `bytes=${range.start}-${range.end}` } : {}) }),
      );
      if (got.Body instanceof Readable) return got.Body;
      throw new Error('object body is not a stream');
    } catch (err) {
      if (!isNotFound(err)) this.opts.onError?.('open', err);
      return undefined;
    }
  }

  async readAll(digest: Digest): Promise<Buffer | undefined> {
    try {
      const got = await this.opts.client.send(new GetObjectCommand({ Bucket: this.opts.bucket, Key: this.keyOf(digest) }));
      if (!got.Body) return undefined;
      return Buffer.from(await got.Body.transformToByteArray());
    } catch (err) {
      if (!isNotFound(err)) this.opts.onError?.('read', err);
      return undefined;
    }
  }

  async begin(expected: Digest, expectedSize?: number, begin?: BeginOptions): Promise<BlobWriter> {
    return S3BlobWriter.start({
      deferred: begin?.mirror === true,
      client: this.opts.client,
      bucket: this.opts.bucket,
      key: this.keyOf(expected),
      tmpDir: this.layout.tmp,
      expected,
      ...(expectedSize !== undefined ? { expectedSize } : {}),
      partSize: this.opts.partSize,
      queueSize: this.opts.queueSize,
      committed: (size) => this.opts.hooks?.committed(size, expected.value),
      ...(this.opts.adopt ? { adopt: this.opts.adopt } : {}),
    });
  }

  /** Small content: verified in memory first, then one PUT to the final key. */
  async put(expected: Digest, bytes: Uint8Array): Promise<void> {
    const actual = digestOf(bytes, expected.algorithm).value;
    if (actual !== expected.value) throw new DigestMismatchError(expected.value, actual, bytes.length, bytes.length);
    await this.opts.client.send(
      new PutObjectCommand({ Bucket: this.opts.bucket, Key: this.keyOf(expected), Body: bytes, ContentLength: bytes.length, ContentType: 'application/octet-stream' }),
    );
    this.opts.hooks?.committed(bytes.length, expected.value);
  }

  async remove(digest: Digest): Promise<void> {
    const info = await this.stat(digest);
    await this.opts.client.send(new DeleteObjectCommand({ Bucket: this.opts.bucket, Key: this.keyOf(digest) }));
    if (info) this.opts.hooks?.removed(info.size, digest.value);
  }

  async *list(): AsyncIterable<StoredBlob> {
    const base = `${this.opts.prefix}blobs/`;
    let token: string | undefined;
    do {
      const page = await this.opts.client.send(
        new ListObjectsV2Command({ Bucket: this.opts.bucket, Prefix: base, ...(token ? { ContinuationToken: token } : {}) }),
      );
      for (const o of page.Contents ?? []) {
        const rest = o.Key?.slice(base.length) ?? '';
        const slash = rest.indexOf('/');
        const d = slash > 0 ? parseDigest(`${rest.slice(0, slash)}:${rest.slice(slash + 1)}`) : undefined;
        if (!d) continue;
        const at = o.LastModified?.getTime() ?? 0;
        yield { digest: d.value, size: o.Size ?? 0, atimeMs: at, mtimeMs: at };
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  /**
   * Removes local spool files left by a previous process and aborts multipart uploads under
   * the prefix that are older than staleUploadMs (other nodes' uploads in progress are younger).
   */
  async sweep(): Promise<number> {
    const names = await readdir(this.layout.tmp).catch(() => [] as string[]);
    await Promise.all(names.map((n) => rm(join(this.layout.tmp, n), { force: true, recursive: true })));
    let aborted = 0;
    const cutoff = Date.now() - this.opts.staleUploadMs;
    try {
      let keyMarker: string | undefined;
      let idMarker: string | undefined;
      do {
        const page = await this.opts.client.send(
          new ListMultipartUploadsCommand({ Bucket: this.opts.bucket, Prefix: this.opts.prefix, ...(keyMarker ? { KeyMarker: keyMarker } : {}), ...(idMarker ? { UploadIdMarker: idMarker } : {}) }),
        );
        for (const u of page.Uploads ?? []) {
          if (!u.Key || !u.UploadId || (u.Initiated?.getTime() ?? 0) > cutoff) continue;
          await this.opts.client.send(new AbortMultipartUploadCommand({ Bucket: this.opts.bucket, Key: u.Key, UploadId: u.UploadId }));
          aborted++;
        }
        keyMarker = page.IsTruncated ? page.NextKeyMarker : undefined;
        idMarker = page.IsTruncated ? page.NextUploadIdMarker : undefined;
      } while (keyMarker);
    } catch (err) {
      this.opts.onError?.('sweep', err);
    }
    return names.length + aborted;
  }
}
