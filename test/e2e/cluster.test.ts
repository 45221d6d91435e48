/**
 * Scale-out: three berth processes on one Ceph RGW bucket and one Redis. Cold pulls spread over
 * the nodes make one upstream fetch per blob; a node killed mid-fill is replaced by another
 * (nothing partial visible in the bucket); a tag resolved on one node is fresh on the others.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { after, before, describe, test } from 'node:test';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { createS3Client, ensureBucket } from '../../src/store/s3-client.js';
import { startCeph, type Ceph } from '../support/ceph.js';
import { makeImageSpec, pushImage, type ImageFixture } from '../support/images.js';
import { startFaultProxy, type FaultProxy } from '../support/proxy.js';
import { startRedis, type RedisServer } from '../support/redis.js';
import { startRegistry, type Registry } from '../support/registry.js';
import { digestOfDir, skopeoCopy } from '../support/skopeo.js';
import { makeTempDir, type TempDir } from '../support/tempdir.js';
import { spawnNode, writeNodeConfig, type Node } from './cluster-nodes.js';
import { ALL_ACCEPT, call } from './harness.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const BUCKET = 'berth-cluster';

let ceph: Ceph;
let redis: RedisServer;
let registry: Registry;
let proxy: FaultProxy;
let tmp: TempDir;
let s3: S3Client;
const nodes: Node[] = [];

function escape(s: string): RegExp {
  return new RegExp(s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
}

async function pull(node: Node, ref: string, out: string): Promise<string> {
  const r = await skopeoCopy(`docker://${node.host}/${ref}`, `dir:${out}`, { timeoutMs: 120_000 });
  assert.equal(r.code, 0, `skopeo via ${node.host}: ${r.stderr}`);
  return digestOfDir(out);
}

async function bucketKeys(): Promise<Array<{ key: string; size: number }>> {
  const page = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET }));
  return (page.Contents ?? []).map((o) => ({ key: o.Key ?? '', size: o.Size ?? -1 }));
}

async function sha256Of(key: string): Promise<string> {
  const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
  return createHash('sha256').update(await got.Body!.transformToByteArray()).digest('hex');
}

before(async () => {
  [ceph, redis, registry, tmp] = await Promise.all([startCeph(), startRedis(), startRegistry(), makeTempDir('cluster')]);
  proxy = await startFaultProxy(registry.url);
  s3 = createS3Client({
    bucket: BUCKET, endpoint: ceph.endpoint, region: ceph.region, forcePathStyle: true, prefix: '',
    accessKeyId: ceph.accessKeyId, secretAccessKey: ceph.secretAccessKey, partSize: 5 * MiB, queueSize: 2, staleUploadsMs: 86_400_000,
  });
  await ensureBucket(s3, BUCKET);
  const cfg = { dir: tmp.path, upstream: proxy.url, ceph, bucket: BUCKET, redisUrl: redis.url, leaseTtl: '2s' };
  const files = await Promise.all(['a', 'b', 'c'].map((n) => writeNodeConfig(n, cfg)));
  nodes.push(...(await Promise.all(files.map((f) => spawnNode(f)))));
});

after(async () => {
  await Promise.all(nodes.map((n) => n.stop()));
  s3?.destroy();
  await proxy?.close();
  await Promise.all([ceph?.close(), redis?.close(), registry?.close()]);
  await tmp?.close();
});

describe('three nodes on one bucket and one Redis', () => {
  test('24 concurrent cold pulls spread over the nodes: all correct, one upstream fetch per blob', async () => {
    const image: ImageFixture = await pushImage(registry.url, 'team/app', '1.0', makeImageSpec({ seed: 'cluster-app', layerSizes: [300 * KiB, 2 * MiB, 7 * MiB], mediaTypeFamily: 'oci' }));
    proxy.reset();
    const digests = await Promise.all(
      Array.from({ length: 24 }, (_, i) => pull(nodes[i % 3]!, image.ref, join(tmp.path, `pull-${i}`))),
    );
    for (const d of digests) assert.equal(d, image.digest);
    for (const b of image.blobs) assert.equal(proxy.count('GET', escape(`/blobs/${b.digest}`)), 1, `upstream GETs of ${b.digest} (${b.size} bytes)`);
    const keys = new Set((await bucketKeys()).map((k) => k.key));
    for (const b of image.blobs) assert.ok(keys.has(`blobs/sha256/${b.digest.slice(7)}`), 'the blob is in the bucket');
  });

  test('a tag resolved on one node is fresh on the others: one upstream HEAD for the cluster', async () => {
    const image = await pushImage(registry.url, 'team/fresh', 'v1', makeImageSpec({ seed: 'cluster-fresh', layerSizes: [2 * KiB], mediaTypeFamily: 'oci' }));
    proxy.reset();
    const path = `/v2/${image.repo}/manifests/${image.tag}`;
    const first = await call(`${nodes[0]!.url}${path}`, { method: 'HEAD', headers: { accept: ALL_ACCEPT } });
    assert.equal(first.status, 200);
    for (const n of nodes.slice(1)) {
      const r = await call(`${n.url}${path}`, { method: 'HEAD', headers: { accept: ALL_ACCEPT } });
      assert.equal(r.status, 200);
      assert.equal(r.headers['docker-content-digest'], image.digest);
      assert.equal(r.headers['x-cache'], 'HIT');
    }
    assert.equal(proxy.count('HEAD', escape(`/manifests/${image.tag}`)), 1);

    // Cold on every node at once: still one upstream HEAD.
    const other = await pushImage(registry.url, 'team/fresh', 'v2', makeImageSpec({ seed: 'cluster-fresh-2', layerSizes: [2 * KiB], mediaTypeFamily: 'oci' }));
    const all = await Promise.all(nodes.flatMap((n) => [1, 2].map(() => call(`${n.url}/v2/${other.repo}/manifests/${other.tag}`, { method: 'HEAD', headers: { accept: ALL_ACCEPT } }))));
    for (const r of all) assert.equal(r.headers['docker-content-digest'], other.digest);
    assert.equal(proxy.count('HEAD', escape(`/manifests/${other.tag}`)), 1);
  });

  test('a node killed mid-fill: the others take over, at most two upstream fetches, nothing partial in the bucket', async () => {
    const image = await pushImage(registry.url, 'team/slow', '1.0', makeImageSpec({ seed: 'cluster-slow', layerSizes: [8 * MiB], mediaTypeFamily: 'oci' }));
    const layer = image.layers[0]!;
    proxy.reset();
    const throttle = proxy.fault({ method: 'GET', path: escape(`/blobs/${layer.digest}`), throttleBytesPerSec: 1 * MiB });
    const [victim, b, c] = [nodes[0]!, nodes[1]!, nodes[2]!];
    const doomed = skopeoCopy(`docker://${victim.host}/${image.ref}`, `dir:${join(tmp.path, 'doomed')}`, { timeoutMs: 60_000 });
    await proxy.waitForBytes('GET', escape(`/blobs/${layer.digest}`), 1 * MiB);
    const survivors = [b, c, b, c].map((n, i) => pull(n, image.ref, join(tmp.path, `survivor-${i}`)));
    await delay(500);
    await victim.kill9();
    throttle.remove();
    const results = await Promise.all(survivors);
    for (const d of results) assert.equal(d, image.digest);
    assert.notEqual((await doomed).code, 0, 'the pull through the killed node broke');
    const fetches = proxy.count('GET', escape(`/blobs/${layer.digest}`));
    assert.ok(fetches >= 1 && fetches <= 2, `upstream fetches of the layer: ${fetches}`);
    for (const { key, size } of await bucketKeys()) {
      const m = /^blobs\/sha256\/([0-9a-f]{64})$/.exec(key);
      assert.ok(m, `only content addresses in the bucket, got ${key}`);
      assert.equal(await sha256Of(key), m[1], `${key} (${size} bytes) is whole and verified`);
    }
  });
});
