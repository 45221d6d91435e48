/**
 * Cross-node streaming: three berth processes on one Ceph RGW bucket and one Redis, each with a
 * peer listener. A client on a node that does not own a fill gets bytes while the owner's fill
 * still runs; a kill -9 of the owner mid-fill leaves the other nodes' clients to finish with at
 * most one more upstream request; peers without the secret are refused.
 */
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { after, before, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import { request } from 'undici';
import { makeImageSpec, pushImage, type ImageFixture } from '../support/images.js';
import { escape, startClusterRig, type ClusterRig } from './cluster-rig.js';
import type { Node } from './cluster-nodes.js';
import { call } from './harness.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const SECRET = 'peer-secret-for-tests';

let bed: ClusterRig;
let registry: ClusterRig['registry'];
let proxy: ClusterRig['proxy'];
let nodes: readonly Node[];

/** A blob download that tells when its first bytes arrived, and hashes the whole body. */
interface Download {
  readonly status: number;
  readonly first: Promise<void>;
  readonly done: Promise<{ bytes: number; digest: string }>;
}

async function download(node: Node, repo: string, digest: string): Promise<Download> {
  const res = await request(`${node.url}/v2/${repo}/blobs/${digest}`);
  let arrived!: () => void;
  let broke!: (err: unknown) => void;
  const first = new Promise<void>((resolve, reject) => ((arrived = resolve), (broke = reject)));
  const done = (async () => {
    const hash = createHash('sha256');
    let bytes = 0;
    for await (const chunk of res.body) {
      arrived();
      hash.update(chunk as Buffer);
      bytes += (chunk as Buffer).length;
    }
    return { bytes, digest: `sha256:${hash.digest('hex')}` };
  })();
  done.catch(broke);
  return { status: res.statusCode, first, done };
}

async function peerClaims(node: Node): Promise<number> {
  const text = (await call(`${node.url}/metrics`)).body.toString();
  const m = /^berth_cluster_fill_claims_total\{result="peer"\} (\d+)/m.exec(text);
  return m ? Number(m[1]) : 0;
}

function upstreamGets(digest: string): Array<{ done: boolean; range: string | undefined }> {
  const path = escape(`/blobs/${digest}`);
  return proxy.requests.filter((r) => r.method === 'GET' && path.test(r.path)).map((r) => ({ done: r.done, range: r.requestHeaders['range'] }));
}

before(async () => {
  bed = await startClusterRig('berth-peer', { peerSecret: SECRET });
  ({ registry, proxy, nodes } = bed);
});

after(async () => {
  await bed?.close();
});

describe('three nodes stream each other\'s fills', () => {
  test('a client on node B receives bytes while node A\'s fill is still running', async () => {
    const image = await pushImage(registry.url, 'peer/early', '1.0', makeImageSpec({ seed: 'peer-early', layerSizes: [4 * MiB], mediaTypeFamily: 'oci' }));
    const layer = image.layers[0]!;
    proxy.reset();
    const throttle = proxy.fault({ method: 'GET', path: escape(`/blobs/${layer.digest}`), throttleBytesPerSec: 1 * MiB });
    const [a, b] = [nodes[0]!, nodes[1]!];
    const peerBefore = await peerClaims(b);
    const onA = await download(a, image.repo, layer.digest);
    await proxy.waitForBytes('GET', escape(`/blobs/${layer.digest}`), 256 * KiB);
    const onB = await download(b, image.repo, layer.digest);
    assert.equal(onB.status, 200);
    await onB.first;
    const gets = upstreamGets(layer.digest);
    assert.equal(gets.length, 1);
    assert.equal(gets[0]!.done, false, 'node A\'s upstream fetch is still running when B\'s client has bytes');
    throttle.remove();
    for (const d of [onA, onB]) assert.deepEqual(await d.done, { bytes: layer.size, digest: layer.digest });
    assert.equal(proxy.count('GET', escape(`/blobs/${layer.digest}`)), 1, 'one upstream GET');
    assert.equal(await peerClaims(b), peerBefore + 1, 'node B streamed the fill from node A');
  });

  test('24 concurrent cold pulls over 3 nodes: every pull correct, one upstream GET per blob', async () => {
    const image: ImageFixture = await pushImage(registry.url, 'peer/app', '1.0', makeImageSpec({ seed: 'peer-app', layerSizes: [300 * KiB, 2 * MiB, 7 * MiB], mediaTypeFamily: 'oci' }));
    proxy.reset();
    const digests = await Promise.all(Array.from({ length: 24 }, (_, i) => bed.pull(nodes[i % 3]!, image.ref, join(bed.tmp.path, `pull-${i}`))));
    for (const d of digests) assert.equal(d, image.digest);
    for (const blob of image.blobs) assert.equal(proxy.count('GET', escape(`/blobs/${blob.digest}`)), 1, `upstream GETs of ${blob.digest} (${blob.size} bytes)`);
  });

  test('the peer listener serves only peers with the secret; the client port serves no fills', async () => {
    const peerUrl = nodes[0]!.peerUrl;
    assert.ok(peerUrl, 'node A has a peer listener');
    const digest = `sha256:${'0'.repeat(64)}`;
    const none = await call(`${peerUrl}/fills/${digest}`);
    assert.equal(none.status, 401);
    assert.equal((JSON.parse(none.body.toString()) as { errors: Array<{ code: string }> }).errors[0]?.code, 'UNAUTHORIZED');
    assert.equal((await call(`${peerUrl}/fills/${digest}`, { headers: { authorization: 'Bearer wrong' } })).status, 401);
    assert.equal((await call(`${peerUrl}/fills/${digest}`, { headers: { authorization: `Bearer ${SECRET}x` } })).status, 401);
    assert.equal((await call(`${peerUrl}/fills/${digest}`, { headers: { authorization: `Bearer ${SECRET}` } })).status, 404, 'with the secret: no such fill');
    assert.equal((await call(`${nodes[0]!.url}/fills/${digest}`, { headers: { authorization: `Bearer ${SECRET}` } })).status, 404);
  });

  test('kill -9 of the owner mid-fill: the other nodes\' clients finish, at most 2 upstream GETs, the bucket holds only verified content', async () => {
    const image = await pushImage(registry.url, 'peer/slow', '1.0', makeImageSpec({ seed: 'peer-slow', layerSizes: [6 * MiB], mediaTypeFamily: 'oci' }));
    const layer = image.layers[0]!;
    proxy.reset();
    const throttle = proxy.fault({ method: 'GET', path: escape(`/blobs/${layer.digest}`), throttleBytesPerSec: 1 * MiB });
    const [victim, b, c] = [nodes[0]!, nodes[1]!, nodes[2]!];
    // The node that ends the fill announces it on the digest's channel once the blob is committed.
    const watcher = new Redis(bed.redis.url, { lazyConnect: true });
    await watcher.connect();
    await watcher.subscribe(`berth:fill:${layer.digest}`);
    const committed = once(watcher, 'message');
    const doomed = await download(victim, image.repo, layer.digest);
    await proxy.waitForBytes('GET', escape(`/blobs/${layer.digest}`), 512 * KiB);
    const survivors = await Promise.all([b, c, b, c].map((n) => download(n, image.repo, layer.digest)));
    await Promise.all(survivors.map((s) => s.first));
    assert.equal(upstreamGets(layer.digest)[0]?.done, false, 'the owner was still filling when the survivors had bytes');
    await victim.kill9();
    throttle.remove();
    for (const s of survivors) assert.deepEqual(await s.done, { bytes: layer.size, digest: layer.digest });
    await assert.rejects(doomed.done, 'the download through the killed node broke');
    const [, outcome] = (await committed) as [string, string];
    watcher.disconnect();
    assert.equal(outcome, 'committed');
    const gets = upstreamGets(layer.digest);
    // The victim died holding part of the blob: the rest came with one Range request.
    assert.equal(gets.length, 2, `upstream GETs of the layer: ${gets.length}`);
    assert.match(gets[1]!.range ?? '', /^bytes=[1-9]\d*-$/, 'the takeover asks only for the bytes it does not have');
    const keys = await bed.verifyBucket();
    assert.ok(keys.includes(`blobs/sha256/${layer.digest.slice(7)}`), 'the survivor committed the blob');
  });
});
