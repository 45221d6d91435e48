/**
 * The BlobStore contract on S3-compatible object storage: a real Ceph RADOS Gateway
 * (test/support/ceph.ts), alone and behind the local disk cache.
 */
import assert from 'node:assert/strict';
import { ListMultipartUploadsCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { createHash, randomBytes } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { after, before, describe, test } from 'node:test';
import { parseDigest } from '../../src/oci/digest.js';
import { FsBlobStore } from '../../src/store/fs-blob-store.js';
import { LocalBlobCache } from '../../src/store/local-cache.js';
import { S3BlobStore } from '../../src/store/s3-blob-store.js';
import { createS3Client, ensureBucket } from '../../src/store/s3-client.js';
import { startCeph, type Ceph } from '../support/ceph.js';
import { makeTempDir, type TempDir } from '../support/tempdir.js';
import { blobStoreConformance } from './conformance.js';

const MiB = 1024 * 1024;
let ceph: Ceph;
let client: S3Client;
const temps: TempDir[] = [];
let buckets = 0;

before(async () => {
  ceph = await startCeph();
  client = createS3Client({
    bucket: 'unused', endpoint: ceph.endpoint, region: ceph.region, forcePathStyle: true, prefix: '',
    accessKeyId: ceph.accessKeyId, secretAccessKey: ceph.secretAccessKey, partSize: 5 * MiB, queueSize: 2, staleUploadsMs: 86_400_000,
  });
});
after(async () => {
  client?.destroy();
  for (const t of temps) await t.close();
  await ceph?.close();
});

async function listKeys(bucket: string): Promise<string[]> {
  const page = await client.send(new ListObjectsV2Command({ Bucket: bucket }));
  return (page.Contents ?? []).map((o) => o.Key ?? '').sort();
}

async function newS3Store(prefix: string): Promise<{ store: S3BlobStore; bucket: string; tmp: TempDir }> {
  const bucket = `conformance-${++buckets}`;
  await ensureBucket(client, bucket);
  const tmp = await makeTempDir('s3-conformance');
  temps.push(tmp);
  const store = new S3BlobStore({ client, bucket, prefix, localRoot: tmp.path, partSize: 5 * MiB, queueSize: 2, staleUploadMs: 86_400_000 });
  await store.init();
  return { store, bucket, tmp };
}

describe('BlobStore conformance: S3BlobStore on Ceph RGW', () => {
  let bucket = '';
  blobStoreConformance(async () => {
    const s = await newS3Store('mirror/');
    bucket = s.bucket;
    return { store: s.store, visible: () => listKeys(s.bucket), spooled: () => readdir(s.store.layout.tmp), close: async () => undefined };
  }, { largeSize: 12 * MiB + 5 });

  test('keys are content addresses under the prefix; no multipart upload is left behind', async () => {
    const keys = await listKeys(bucket);
    assert.ok(keys.length > 0);
    for (const k of keys) assert.match(k, /^mirror\/blobs\/sha256\/[0-9a-f]{64}$/);
    const uploads = await client.send(new ListMultipartUploadsCommand({ Bucket: bucket }));
    assert.deepEqual((uploads.Uploads ?? []).map((u) => u.Key), []);
  });
});

describe('S3BlobStore: a mirror write (another node stores the blob)', () => {
  test('sends nothing to the bucket before its commit; the commit uploads the verified file; an abort leaves nothing', async () => {
    const { store, bucket } = await newS3Store('');
    const bytes = randomBytes(6 * MiB + 3);
    const digest = parseDigest(`sha256:${createHash('sha256').update(bytes).digest('hex')}`)!;
    const noUploads = async (): Promise<void> => {
      const uploads = await client.send(new ListMultipartUploadsCommand({ Bucket: bucket }));
      assert.deepEqual((uploads.Uploads ?? []).map((u) => u.Key), [], 'no multipart upload');
    };
    const dropped = await store.begin(digest, bytes.length, { mirror: true });
    await dropped.writeAt(0, [bytes]);
    await dropped.verify();
    await noUploads();
    await dropped.abort();
    assert.deepEqual(await listKeys(bucket), []);

    const kept = await store.begin(digest, bytes.length, { mirror: true });
    await kept.writeAt(0, [bytes.subarray(0, MiB)]);
    await kept.writeAt(MiB, [bytes.subarray(MiB)]);
    await noUploads();
    assert.deepEqual(await listKeys(bucket), []);
    await kept.commit();
    assert.deepEqual(await listKeys(bucket), [`blobs/sha256/${digest.hex}`]);
    assert.ok((await store.readAll(digest))!.equals(bytes));
    await noUploads();
  });
});

describe('BlobStore conformance: S3BlobStore behind the local disk cache', () => {
  let cache: LocalBlobCache;
  let localRoot = '';
  blobStoreConformance(async () => {
    const s = await newS3Store('');
    const localTmp = await makeTempDir('local-cache');
    temps.push(localTmp);
    localRoot = localTmp.path;
    const local = new FsBlobStore(localTmp.path, false);
    cache = new LocalBlobCache(s.store, local, 40 * MiB);
    await cache.init();
    return { store: cache, visible: () => listKeys(s.bucket), spooled: () => readdir(s.store.layout.tmp), close: async () => undefined };
  }, { largeSize: 12 * MiB + 5 });

  test('a blob read once through the cache is then served from local disk', async () => {
    const other = await newS3Store('');
    const bytes = randomBytes(2 * MiB);
    const d = parseDigest(`sha256:${createHash('sha256').update(bytes).digest('hex')}`)!;
    await other.store.put(d, bytes);
    const tmp = await makeTempDir('local-cache-2');
    temps.push(tmp);
    const events = { hits: 0, misses: 0 };
    const layered = new LocalBlobCache(other.store, new FsBlobStore(tmp.path, false), 8 * MiB, { hit: () => events.hits++, miss: () => events.misses++ });
    await layered.init();
    const read = async (): Promise<Buffer> => {
      const parts: Buffer[] = [];
      for await (const c of (await layered.open(d))!) parts.push(c as Buffer);
      return Buffer.concat(parts);
    };
    assert.ok((await read()).equals(bytes));
    assert.ok((await read()).equals(bytes));
    assert.deepEqual(events, { hits: 1, misses: 1 });
    const files = await readdir(tmp.path, { recursive: true });
    assert.ok(files.some((f) => f.endsWith(d.hex)), 'the local copy exists');
    assert.ok(localRoot.length > 0);
  });
});
