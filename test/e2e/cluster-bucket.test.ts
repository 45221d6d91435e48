/**
 * A bounded bucket: storage.maxSize with backend s3, three nodes sharing the order of use in
 * Redis. Pulls of more images than fit keep the bucket under its cap; the most recent image and
 * a pinned one stay.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { join } from 'node:path';
import { makeImageSpec, pushImage } from '../support/images.js';
import { escape, nodeMetric, startClusterRig, type ClusterRig } from './cluster-rig.js';

const MiB = 1024 * 1024;
const CAP = 300 * MiB;

const pinnedSpec = makeImageSpec({ seed: 'bucket-pinned', layerSizes: [10 * MiB], mediaTypeFamily: 'oci' });
let rig: ClusterRig;

before(async () => {
  rig = await startClusterRig('berth-cluster-bucket', { maxSize: '300MiB', pins: [`docker.io/team/pinned@${pinnedSpec.manifest.digest}`] });
});

after(async () => {
  await rig?.close();
});

async function bucketBytes(): Promise<number> {
  return (await rig.bucketKeys()).reduce((n, k) => n + k.size, 0);
}

describe('a bucket bounded by storage.maxSize over three nodes', () => {
  test('10 images of 100 MiB: under the cap after every pull, the latest pulls from the bucket, the pinned image stays', async () => {
    const pinned = await pushImage(rig.registry.url, 'team/pinned', '1.0', pinnedSpec);
    assert.equal(await rig.pull(rig.nodes[0]!, pinned.ref, join(rig.tmp.path, 'pinned')), pinned.digest);
    let last = pinned;
    const deadline = Date.now() + 240_000;
    for (let i = 0; i < 10; i++) {
      assert.ok(Date.now() < deadline, `pull ${i} started within the time bound`);
      const image = await pushImage(rig.registry.url, `team/big${i}`, '1.0', makeImageSpec({ seed: `bucket-big-${i}`, layerSizes: [100 * MiB], mediaTypeFamily: 'oci' }));
      assert.equal(await rig.pull(rig.nodes[i % 3]!, image.ref, join(rig.tmp.path, `big-${i}`)), image.digest);
      const bytes = await bucketBytes();
      assert.ok(bytes <= CAP, `after pull ${i} the bucket holds ${(bytes / MiB).toFixed(1)} MiB, cap 300 MiB`);
      last = image;
    }
    const evictions = (await Promise.all(rig.nodes.map((n) => nodeMetric(n, 'berth_cache_evictions_total')))).reduce((a, b) => a + b, 0);
    assert.ok(evictions > 0, 'content was evicted');
    const keys = new Set((await rig.bucketKeys()).map((k) => k.key));
    for (const b of pinned.blobs) assert.ok(keys.has(`blobs/sha256/${b.digest.slice(7)}`), `pinned ${b.digest} is still in the bucket`);

    rig.proxy.reset();
    assert.equal(await rig.pull(rig.nodes[1]!, last.ref, join(rig.tmp.path, 'again')), last.digest);
    assert.equal(rig.proxy.count('GET', escape(`/v2/${last.repo}/`)), 0, 'upstream GETs for the most recent image');
    // Every node reports the bucket's size against the cap.
    for (const n of rig.nodes) {
      const size = await nodeMetric(n, 'berth_cache_size_bytes');
      assert.ok(size > 0 && size <= CAP, `${n.host} reports ${size} bytes`);
    }
  });
});
