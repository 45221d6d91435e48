/**
 * The S3 client for object storage, built from the storage.s3 config. Checksums only when an
 * operation requires them: the SDK's default trailing checksums make streamed PUTs fail on
 * gateways such as Ceph RGW 16 (411 MissingContentLength).
 */
import { CreateBucketCommand, HeadBucketCommand, S3Client } from '@aws-sdk/client-s3';
import type { S3Config } from '../config/types.js';

export function createS3Client(cfg: S3Config): S3Client {
  return new S3Client({
    region: cfg.region,
    forcePathStyle: cfg.forcePathStyle,
    ...(cfg.endpoint !== undefined ? { endpoint: cfg.endpoint } : {}),
    ...(cfg.accessKeyId !== undefined && cfg.secretAccessKey !== undefined
      ? { credentials: { accessKeyId: cfg.accessKeyId, secretAccessKey: cfg.secretAccessKey } }
      : {}),
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    maxAttempts: 3,
  });
}

/** Creates the bucket when it does not exist yet (a fresh MinIO or RGW); an existing one is kept. */
export async function ensureBucket(client: S3Client, bucket: string): Promise<void> {
  try {
    await client.send(new HeadBucketCommand({ Bucket: bucket }));
  } catch (err) {
    const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    if (status !== 404) throw err;
    await client.send(new CreateBucketCommand({ Bucket: bucket }));
  }
}
