/**
 * The parts of a cluster test: Ceph RGW, Redis, the upstream registry behind the fault proxy,
 * one bucket and three berth nodes on them, with the bucket and pull helpers the tests share.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { createS3Client, ensureBucket } from '../../src/store/s3-client.js';
import { startCeph, type Ceph } from '../support/ceph.js';
import { startFaultProxy, type FaultProxy } from '../support/proxy.js';
import { startRedis, type RedisServer } from '../support/redis.js';
import { startRegistry, type Registry } from '../support/registry.js';
import { digestOfDir, skopeoCopy } from '../support/skopeo.js';
import { makeTempDir, type TempDir } from '../support/tempdir.js';
import { call } from './harness.js';
import { spawnNode, writeNodeConfig, type Node, type NodeConfig } from './cluster-nodes.js';

const MiB = 1024 * 1024;

export interface ClusterRig {
  readonly ceph: Ceph;
  readonly redis: RedisServer;
  readonly registry: Registry;
  readonly proxy: FaultProxy;
  readonly tmp: TempDir;
  readonly s3: S3Client;
  readonly bucket: string;
  readonly nodes: readonly Node[];
  /** skopeo copy through a node into dir:out; returns the pulled manifest's digest. */
  pull(node: Node, ref: string, out: string): Promise<string>;
  /** Every object in the bucket. */
  bucketKeys(): Promise<Array<{ key: string; size: number }>>;
  /** Asserts every object is a blob key whose content hashes to it; returns the keys. */
  verifyBucket(): Promise<string[]>;
  close(): Promise<void>;
}

export type RigNodeOptions = Omit<NodeConfig, 'dir' | 'upstream' | 'ceph' | 'bucket' | 'redisUrl'>;

/** A path as a regular expression matching it literally. */
export function escape(s: string): RegExp {
  return new RegExp(s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
}

/** The sum of a counter or gauge on a node's /metrics, over the series carrying `labels`. */
export async function nodeMetric(node: Node, name: string, labels: Record<string, string> = {}): Promise<number> {
  const r = await call(`${node.url}/metrics`);
  assert.equal(r.status, 200, 'metrics');
  let total = 0;
  for (const line of r.body.toString('utf8').split('\n')) {
    const m = /^([a-z_]+)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = m[2] ?? '';
    if (Object.entries(labels).every(([k, v]) => have.includes(`${k}="${v}"`))) total += Number(m[3]);
  }
  return total;
}

export async function startClusterRig(bucket: string, node: RigNodeOptions = {}, opts: { cephMemBytes?: number } = {}): Promise<ClusterRig> {
  const started = await Promise.allSettled([
    startCeph(opts.cephMemBytes !== undefined ? { memBytes: opts.cephMemBytes } : {}),
    startRedis(),
    startRegistry(),
    makeTempDir('cluster'),
  ] as const);
  const failed = started.find((r) => r.status === 'rejected');
  if (failed) {
    // What did start must not keep the test process alive.
    await Promise.all(started.map((r) => (r.status === 'fulfilled' ? r.value.close() : undefined)));
    throw failed.reason;
  }
  const [ceph, redis, registry, tmp] = started.map((r) => (r as PromiseFulfilledResult<unknown>).value) as [Ceph, RedisServer, Registry, TempDir];
  const proxy = await startFaultProxy(registry.url);
  const s3 = createS3Client({
    bucket, endpoint: ceph.endpoint, region: ceph.region, forcePathStyle: true, prefix: '',
    accessKeyId: ceph.accessKeyId, secretAccessKey: ceph.secretAccessKey, partSize: 5 * MiB, queueSize: 2, staleUploadsMs: 86_400_000,
  });
  await ensureBucket(s3, bucket);
  const cfg: NodeConfig = { leaseTtl: '2s', ...node, dir: tmp.path, upstream: proxy.url, ceph, bucket, redisUrl: redis.url };
  const files = await Promise.all(['a', 'b', 'c'].map((n) => writeNodeConfig(n, cfg)));
  const nodes = await Promise.all(files.map((f) => spawnNode(f)));
  const bucketKeys = async (): Promise<Array<{ key: string; size: number }>> => {
    const out: Array<{ key: string; size: number }> = [];
    let token: string | undefined;
    do {
      const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, ...(token ? { ContinuationToken: token } : {}) }));
      for (const o of page.Contents ?? []) out.push({ key: o.Key ?? '', size: o.Size ?? -1 });
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return out;
  };
  const sha256Of = async (key: string): Promise<string> => {
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    return createHash('sha256').update(await got.Body!.transformToByteArray()).digest('hex');
  };
  return {
    ceph, redis, registry, proxy, tmp, s3, bucket, nodes,
    pull: async (n, ref, out) => {
      const r = await skopeoCopy(`docker://${n.host}/${ref}`, `dir:${out}`, { timeoutMs: 120_000 });
      assert.equal(r.code, 0, `skopeo via ${n.host}: ${r.stderr}`);
      return digestOfDir(out);
    },
    bucketKeys,
    verifyBucket: async () => {
      const keys = (await bucketKeys()).map((o) => o.key);
      for (const key of keys) {
        const m = /^blobs\/sha256\/([0-9a-f]{64})$/.exec(key);
        assert.ok(m, `only content addresses in the bucket, got ${key}`);
        assert.equal(await sha256Of(key), m[1], `${key} is whole and verified`);
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
