/** Bounded disk: the size cap holds while pulling far more than it, by LRU, without breaking pulls. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { join } from 'node:path';
import { request } from 'undici';
import { makeImageSpec, pushImage, type ImageFixture } from '../support/images.js';
import { startFaultProxy, type FaultProxy } from '../support/proxy.js';
import { startRegistry, type Registry } from '../support/registry.js';
import { makeTempDir, type TempDir } from '../support/tempdir.js';
import { MiB, isStored, pullOk, storedBytes } from './cache-support.js';
import { metricValue, startMirror, type Mirror } from './harness.js';

const IMAGES = 10;
const CAP = 300 * MiB;

describe('size cap: 10 images of 100 MiB through a 300 MiB cache', () => {
  let registry: Registry;
  let proxy: FaultProxy;
  let tmp: TempDir;
  let mirror: Mirror;
  let images: ImageFixture[];
  let slow: ImageFixture;

  before(async () => {
    registry = await startRegistry();
    images = [];
    for (let i = 0; i < IMAGES; i++) {
      const spec = makeImageSpec({ seed: `evict-${i}`, layerSizes: [60 * MiB, 40 * MiB], mediaTypeFamily: i % 2 === 0 ? 'oci' : 'docker' });
      images.push(await pushImage(registry.url, `evict/img${i}`, '1.0', spec));
    }
    slow = await pushImage(registry.url, 'evict/slow', '1.0', makeImageSpec({ seed: 'evict-slow', layerSizes: [48 * MiB], mediaTypeFamily: 'oci' }));
    proxy = await startFaultProxy(registry.url);
    tmp = await makeTempDir('eviction');
    mirror = await startMirror({ upstreams: { 'docker.io': proxy.url }, dataDir: join(tmp.path, 'data'), storage: '  maxSize: 300MiB\n' });
  });

  after(async () => {
    await mirror?.close();
    await proxy?.close();
    await registry?.close();
    await tmp?.close();
  });

  const settle = async (): Promise<void> => {
    await mirror.berth.fills.idle();
    await mirror.berth.cache.settled();
  };
  const blobGets = (): number => proxy.count('GET', /\/blobs\//);

  test('the store stays under the cap at every step; the newest image is served from cache; an evicted one pulls again', async () => {
    let peak = 0;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        peak = Math.max(peak, await storedBytes(mirror.dataDir));
        await new Promise((r) => setTimeout(r, 25));
      }
    })();
    try {
      for (const [i, img] of images.entries()) {
        await pullOk(mirror.url, img, tmp.path);
        await settle();
        const size = await storedBytes(mirror.dataDir);
        assert.ok(size <= CAP, `after pull ${i}: ${size} bytes stored, cap ${CAP}`);
        assert.equal(await metricValue(mirror.berth.metrics, 'berth_cache_size_bytes'), size, 'size gauge matches the disk');
        for (const b of img.blobs) assert.ok(await isStored(mirror.dataDir, b.digest), `pull ${i}: its own blobs are cached`);
      }
    } finally {
      sampling = false;
      await sampler;
    }
    assert.ok(peak <= CAP, `peak while pulling: ${peak} > ${CAP}`);
    assert.ok((await metricValue(mirror.berth.metrics, 'berth_cache_evictions_total')) >= (IMAGES - 3) * 3);

    const newest = images[IMAGES - 1]!;
    const before = blobGets();
    const manifestsBefore = proxy.count('GET', /\/manifests\//);
    await pullOk(mirror.url, newest, tmp.path);
    assert.equal(blobGets(), before, 'the most recent image came from the cache');
    assert.equal(proxy.count('GET', /\/manifests\//), manifestsBefore);

    const oldest = images[0]!;
    for (const b of oldest.blobs) assert.equal(await isStored(mirror.dataDir, b.digest), false, 'the oldest image was evicted');
    assert.equal(await isStored(mirror.dataDir, oldest.digest), false, 'its manifest too');
    const mark = proxy.requests.length;
    await pullOk(mirror.url, oldest, tmp.path);
    // Large blobs come as several ranged parts: count blobs and bytes, not requests.
    const refills = proxy.requests.slice(mark).filter((r) => r.method === 'GET' && /\/blobs\//.test(r.path));
    assert.equal(new Set(refills.map((r) => r.path)).size, oldest.blobs.length, 'an evicted image refills from upstream');
    assert.equal(refills.reduce((n, r) => n + r.bytes, 0), oldest.blobs.reduce((n, b) => n + b.size, 0), 'each byte once');
    await settle();
    assert.ok((await storedBytes(mirror.dataDir)) <= CAP);
  });

  test('eviction never breaks a running pull: neither a fill being tailed nor a cached blob being read', async () => {
    // A cached blob, read slowly: it becomes the least recently used while its reader is paused.
    const cached = images[IMAGES - 1]!.layers[0]!;
    const reader = await request(`${mirror.url}/v2/${images[IMAGES - 1]!.repo}/blobs/${cached.digest}`);
    assert.equal(reader.headers['x-cache'], 'HIT');
    const readerHash = createHash('sha256');
    const [first] = (await once(reader.body, 'data')) as [Buffer];
    readerHash.update(first);
    reader.body.pause();

    // A fill, throttled, with a client tailing it.
    proxy.faults.add({ method: 'GET', path: new RegExp(`/blobs/${slow.layers[0]!.digest}`), throttleBytesPerSec: 12 * MiB });
    const tail = await request(`${mirror.url}/v2/${slow.repo}/blobs/${slow.layers[0]!.digest}`);
    assert.equal(tail.headers['x-cache'], 'MISS');
    const tailed = (async () => {
      const h = createHash('sha256');
      for await (const c of tail.body) h.update(c as Buffer);
      return `sha256:${h.digest('hex')}`;
    })();

    // Pressure while both run: every other image goes through the cache again.
    for (const img of images.slice(0, 3)) {
      await pullOk(mirror.url, img, tmp.path);
      await mirror.berth.cache.settled();
      assert.ok(await isStored(mirror.dataDir, cached.digest), 'a blob being read is not evicted');
    }
    assert.equal(await tailed, slow.layers[0]!.digest, 'the tailed fill completed with the right bytes');
    assert.equal(await isStored(mirror.dataDir, images[IMAGES - 1]!.layers[1]!.digest), false, 'its sibling layer, used just before it, was evicted');

    reader.body.resume();
    for await (const c of reader.body) readerHash.update(c as Buffer);
    assert.equal(`sha256:${readerHash.digest('hex')}`, cached.digest, 'the slow reader got the whole blob');
    await settle();
    await pullOk(mirror.url, images[3]!, tmp.path);
    await settle();
    assert.equal(await isStored(mirror.dataDir, cached.digest), false, 'once its reader left, the blob could be evicted');
    assert.ok((await storedBytes(mirror.dataDir)) <= CAP);
  });
});
