/**
 * The test bed of the cluster tests: Ceph RGW, Redis, a registry behind the fault proxy, and
 * three berth nodes on one bucket; helpers that pull through a node and check the bucket.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { join } from 'node:path';
import { createS3Client, ensureBucket } from '../../src/store/s3-client.js';
import { startCeph, type Ceph } from '../support/ceph.js';
import { startFaultProxy, type FaultProxy } from '../support/proxy.js';
import { startRedis, type RedisServer } from '../support/redis.js';
import { startRegistry, type Registry } from '../support/registry.js';
import { digestOfDir, skopeoCopy } from '../support/skopeo.js';
import { makeTempDir, type TempDir } from '../support/tempdir.js';
import { spawnNode, writeNodeConfig, type Node } from './cluster-nodes.js';

const MiB = 1024 * 1024;

export interface ClusterBed {
  readonly ceph: Ceph;
  readonly redis: RedisServer;
  readonly registry: Registry;
  readonly proxy: FaultProxy;
  readonly tmp: TempDir;
  readonly s3: S3Client;
  readonly bucket: string;
  readonly nodes: readonly Node[];
  /** Pulls `ref` through `node` into a fresh directory; the pulled manifest's digest. */
  pull(node: Node, ref: string, name: string): Promise<string>;
  /** Every object of the bucket is a blob key whose content hashes to it; the keys. */
  verifyBucket(): Promise<string[]>;
  close(): Promise<void>;
}

export const escape = (s: string): RegExp => new RegExp(s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));

export async function startClusterBed(opts: { readonly bucket: string; readonly peerSecret?: string }): Promise<ClusterBed> {
  const [ceph, redis, registry, tmp] = await Promise.all([startCeph(), startRedis(), startRegistry(), makeTempDir(opts.bucket)]);
  const proxy = await startFaultProxy(registry.url);
  const s3 = createS3Client({
    bucket: opts.bucket, endpoint: ceph.endpoint, region: ceph.region, forcePathStyle: true, prefix: '',
    accessKeyId: ceph.accessKeyId, secretAccessKey: ceph.secretAccessKey, partSize: 5 * MiB, queueSize: 2, staleUploadsMs: 86_400_000,
  });
  await ensureBucket(s3, opts.bucket);
  const cfg = { dir: tmp.path, upstream: proxy.url, ceph, bucket: opts.bucket, redisUrl: redis.url, leaseTtl: '2s', ...(opts.peerSecret ? { peerSecret: opts.peerSecret } : {}) };
  const files = await Promise.all(['a', 'b', 'c'].map((n) => writeNodeConfig(n, cfg)));
  const nodes = await Promise.all(files.map((f) => spawnNode(f)));
  return {
    ceph, redis, registry, proxy, tmp, s3, bucket: opts.bucket, nodes,
    pull: async (node, ref, name) => {
      const out = join(tmp.path, name);
      const r = await skopeoCopy(`docker://${node.host}/${ref}`, `dir:${out}`, { timeoutMs: 120_000 });
      assert.equal(r.code, 0, `skopeo via ${node.host}: ${r.stderr}`);
      return digestOfDir(out);
    },
    verifyBucket: async () => {
      const page = await s3.send(new ListObjectsV2Command({ Bucket: opts.bucket }));
      const keys = (page.Contents ?? []).map((o) => o.Key ?? '');
      for (const key of keys) {
        const m = /^blobs\/sha256\/([0-9a-f]{64})$/.exec(key);
        assert.ok(m, `only content addresses in the bucket, got ${key}`);
        const got = await s3.send(new GetObjectCommand({ Bucket: opts.bucket, Key: key }));
        assert.equal(createHash('sha256').update(await got.Body!.transformToByteArray()).digest('hex'), m[1], `${key} is whole and verified`);
      }
      return keys;
    },
    close: async () => {
      await Promise.all(nodes.map((n) => n.stop()));
      s3.destroy();
      await proxy.close();
      await Promise.all([ceph.close(), redis.close(), registry.close()]);
      await tmp.close();
    },
  };
}
