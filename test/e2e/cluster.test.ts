/**
 * Scale-out: three berth processes on one Ceph RGW bucket and one Redis. Cold pulls spread over
 * the nodes make one upstream fetch per blob; a node killed mid-fill is replaced by another
 * (nothing partial visible in the bucket); a tag resolved on one node is fresh on the others.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { makeImageSpec, pushImage, type ImageFixture } from '../support/images.js';
import { skopeoCopy } from '../support/skopeo.js';
import type { Node } from './cluster-nodes.js';
import { escape, startClusterRig, type ClusterRig } from './cluster-rig.js';
import { ALL_ACCEPT, call } from './harness.js';

const KiB = 1024;
const MiB = 1024 * KiB;

let rig: ClusterRig;
let nodes: readonly Node[];

before(async () => {
  rig = await startClusterRig('berth-cluster');
  nodes = rig.nodes;
});

after(async () => {
  await rig?.close();
});

describe('three nodes on one bucket and one Redis', () => {
  test('24 concurrent cold pulls spread over the nodes: all correct, one upstream fetch per blob', async () => {
    const image: ImageFixture = await pushImage(rig.registry.url, 'team/app', '1.0', makeImageSpec({ seed: 'cluster-app', layerSizes: [300 * KiB, 2 * MiB, 7 * MiB], mediaTypeFamily: 'oci' }));
    rig.proxy.reset();
    const digests = await Promise.all(
      Array.from({ length: 24 }, (_, i) => rig.pull(nodes[i % 3]!, image.ref, join(rig.tmp.path, `pull-${i}`))),
    );
    for (const d of digests) assert.equal(d, image.digest);
    for (const b of image.blobs) assert.equal(rig.proxy.count('GET', escape(`/blobs/${b.digest}`)), 1, `upstream GETs of ${b.digest} (${b.size} bytes)`);
    const keys = new Set((await rig.bucketKeys()).map((k) => k.key));
    for (const b of image.blobs) assert.ok(keys.has(`blobs/sha256/${b.digest.slice(7)}`), 'the blob is in the bucket');
  });

  test('a tag resolved on one node is fresh on the others: one upstream HEAD for the cluster', async () => {
    const image = await pushImage(rig.registry.url, 'team/fresh', 'v1', makeImageSpec({ seed: 'cluster-fresh', layerSizes: [2 * KiB], mediaTypeFamily: 'oci' }));
    rig.proxy.reset();
    const path = `/v2/${image.repo}/manifests/${image.tag}`;
    const first = await call(`${nodes[0]!.url}${path}`, { method: 'HEAD', headers: { accept: ALL_ACCEPT } });
    assert.equal(first.status, 200);
    for (const n of nodes.slice(1)) {
      const r = await call(`${n.url}${path}`, { method: 'HEAD', headers: { accept: ALL_ACCEPT } });
      assert.equal(r.status, 200);
      assert.equal(r.headers['docker-content-digest'], image.digest);
      assert.equal(r.headers['x-cache'], 'HIT');
    }
    assert.equal(rig.proxy.count('HEAD', escape(`/manifests/${image.tag}`)), 1);

    // Cold on every node at once: still one upstream HEAD.
    const other = await pushImage(rig.registry.url, 'team/fresh', 'v2', makeImageSpec({ seed: 'cluster-fresh-2', layerSizes: [2 * KiB], mediaTypeFamily: 'oci' }));
    const all = await Promise.all(nodes.flatMap((n) => [1, 2].map(() => call(`${n.url}/v2/${other.repo}/manifests/${other.tag}`, { method: 'HEAD', headers: { accept: ALL_ACCEPT } }))));
    for (const r of all) assert.equal(r.headers['docker-content-digest'], other.digest);
    assert.equal(rig.proxy.count('HEAD', escape(`/manifests/${other.tag}`)), 1);
  });

  test('a node killed mid-fill: the others take over, at most two upstream fetches, nothing partial in the bucket', async () => {
    const image = await pushImage(rig.registry.url, 'team/slow', '1.0', makeImageSpec({ seed: 'cluster-slow', layerSizes: [8 * MiB], mediaTypeFamily: 'oci' }));
    const layer = image.layers[0]!;
    rig.proxy.reset();
    const throttle = rig.proxy.fault({ method: 'GET', path: escape(`/blobs/${layer.digest}`), throttleBytesPerSec: 1 * MiB });
    const [victim, b, c] = [nodes[0]!, nodes[1]!, nodes[2]!];
    const doomed = skopeoCopy(`docker://${victim.host}/${image.ref}`, `dir:${join(rig.tmp.path, 'doomed')}`, { timeoutMs: 60_000 });
    await rig.proxy.waitForBytes('GET', escape(`/blobs/${layer.digest}`), 1 * MiB);
    const survivors = [b, c, b, c].map((n, i) => rig.pull(n, image.ref, join(rig.tmp.path, `survivor-${i}`)));
    await delay(500);
    await victim.kill9();
    throttle.remove();
    const results = await Promise.all(survivors);
    for (const d of results) assert.equal(d, image.digest);
    assert.notEqual((await doomed).code, 0, 'the pull through the killed node broke');
    const fetches = rig.proxy.count('GET', escape(`/blobs/${layer.digest}`));
    assert.ok(fetches >= 1 && fetches <= 2, `upstream fetches of the layer: ${fetches}`);
    await rig.verifyBucket();
  });
});
