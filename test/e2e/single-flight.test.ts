/** Issue 3: one upstream fetch per blob, streamed to every waiter while it runs. */
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { request } from 'undici';
import { startRegistry, type Registry } from '../support/registry.js';
import { makeImageSpec, pushImage, type ImageFixture } from '../support/images.js';
import { startFaultProxy, type FaultProxy } from '../support/proxy.js';
import { digestOfDir, skopeoCopy } from '../support/skopeo.js';
import { makeTempDir, type TempDir } from '../support/tempdir.js';
import { call, metricValue, ALL_ACCEPT, startMirror, type Mirror } from './harness.js';

const MiB = 1024 * 1024;

describe('single-flight fills', () => {
  let registry: Registry;
  let proxy: FaultProxy;
  let image: ImageFixture;
  let throttled: ImageFixture;
  let mirror: Mirror;
  let tmp: TempDir;

  before(async () => {
    registry = await startRegistry();
    image = await pushImage(registry.url, 'sf/app', '1.0', makeImageSpec({ seed: 'sf-app', layerSizes: [6 * MiB, 3 * MiB, 512 * 1024], mediaTypeFamily: 'oci' }));
    throttled = await pushImage(registry.url, 'sf/slow', '1.0', makeImageSpec({ seed: 'sf-slow', layerSizes: [4 * MiB], mediaTypeFamily: 'docker' }));
    proxy = await startFaultProxy(registry.url);
    tmp = await makeTempDir('single-flight');
  });

  beforeEach(async () => {
    await mirror?.close();
    proxy.reset();
    mirror = await startMirror({ upstreams: { 'docker.io': proxy.url }, dataDir: join(tmp.path, `data-${Date.now()}-${Math.random()}`) });
  });

  after(async () => {
    await mirror?.close();
    await proxy?.close();
    await registry?.close();
    await tmp?.close();
  });

  const blobGets = (digest: string): number => proxy.count('GET', new RegExp(`/blobs/${digest}$`));
  const blobUrl = (img: ImageFixture, i: number): string => `${mirror.url}/v2/${img.repo}/blobs/${img.layers[i]!.digest}`;

  test('16 concurrent cold pulls: every blob and the manifest come from upstream once', async () => {
    const host = mirror.url.replace('http://', '');
    const pulls = Array.from({ length: 16 }, (_, i) => skopeoCopy(`docker://${host}/${image.ref}`, `dir:${join(tmp.path, `p16-${i}`)}`));
    const results = await Promise.all(pulls);
    for (const [i, r] of results.entries()) {
      assert.equal(r.code, 0, `pull ${i}: ${r.stderr}`);
      assert.equal(await digestOfDir(join(tmp.path, `p16-${i}`)), image.digest);
    }
    for (const b of image.blobs) assert.equal(blobGets(b.digest), 1, `upstream GETs of ${b.digest}`);
    assert.equal(proxy.count('HEAD', /\/manifests\/1\.0$/), 1, 'tag resolved once');
    assert.equal(proxy.count('GET', new RegExp(`/manifests/${image.digest}$`)), 1, 'manifest fetched once');
    assert.equal(await metricValue(mirror.berth.metrics, 'berth_cache_requests_total', { kind: 'blob', result: 'miss' }), image.blobs.length);
  });

  test('a client joining a running fill gets bytes while the fill is still running', async () => {
    const layer = throttled.layers[0]!;
    proxy.faults.add({ method: 'GET', path: /\/blobs\//, throttleBytesPerSec: 2 * MiB });
    const first = await request(blobUrl(throttled, 0));
    const record = await proxy.waitForBytes('GET', new RegExp(`/blobs/${layer.digest}`), 256 * 1024);
    const second = await request(blobUrl(throttled, 0));
    assert.equal(second.headers['x-cache'], 'COALESCED');
    const [chunk] = (await once(second.body, 'data')) as [Buffer];
    assert.ok(chunk.length > 0);
    assert.equal(record.done, false, 'the upstream transfer had already finished');
    const hashes = await Promise.all([first, second].map(async (r) => {
      const h = createHash('sha256');
      if (r === second) h.update(chunk);
      for await (const c of r.body) h.update(c as Buffer);
      return `sha256:${h.digest('hex')}`;
    }));
    assert.deepEqual(hashes, [layer.digest, layer.digest]);
    assert.equal(blobGets(layer.digest), 1);
  });

  test('a client that leaves mid-blob harms neither the others nor the commit', async () => {
    const layer = throttled.layers[0]!;
    proxy.faults.add({ method: 'GET', path: /\/blobs\//, throttleBytesPerSec: 4 * MiB });
    const clients = await Promise.all([0, 1, 2].map(() => request(blobUrl(throttled, 0))));
    const quitter = clients[0]!;
    await once(quitter.body, 'data');
    quitter.body.destroy();
    const digests = await Promise.all(clients.slice(1).map(async (r) => {
      const h = createHash('sha256');
      for await (const c of r.body) h.update(c as Buffer);
      return `sha256:${h.digest('hex')}`;
    }));
    assert.deepEqual(digests, [layer.digest, layer.digest]);
    await mirror.berth.fills.idle();
    await stat(join(mirror.dataDir, 'blobs', 'sha256', layer.digest.slice(7, 9), layer.digest.slice(7)));
    assert.equal(blobGets(layer.digest), 1);
  });

  test('the fill goes on and commits when every client has left', async () => {
    const layer = image.layers[0]!;
    proxy.faults.add({ method: 'GET', path: /\/blobs\//, throttleBytesPerSec: 8 * MiB });
    const r = await request(blobUrl(image, 0));
    await once(r.body, 'data');
    r.body.destroy();
    await mirror.berth.fills.idle();
    const again = await call(blobUrl(image, 0));
    assert.equal(again.headers['x-cache'], 'HIT');
    assert.equal(`sha256:${createHash('sha256').update(again.body).digest('hex')}`, layer.digest);
    assert.equal(blobGets(layer.digest), 1);
  });

  test('an upstream reset at 50 % is resumed with Range, not downloaded again', async () => {
    const layer = image.layers[0]!;
    const half = Math.floor(layer.size / 2);
    proxy.faults.add({ method: 'GET', path: new RegExp(`/blobs/${layer.digest}`), resetAfterBytes: half, times: 1 });
    const got = await call(blobUrl(image, 0));
    assert.equal(got.status, 200);
    assert.equal(`sha256:${createHash('sha256').update(got.body).digest('hex')}`, layer.digest);
    const gets = proxy.requests.filter((r) => r.method === 'GET' && r.path.endsWith(`/blobs/${layer.digest}`));
    assert.equal(gets.length, 2);
    const range = gets[1]!.requestHeaders.range ?? '';
    const m = /^bytes=(\d+)-$/.exec(range);
    assert.ok(m, `second request had range "${range}"`);
    assert.ok(Number(m[1]) > 0 && Number(m[1]) <= half);
    assert.ok(gets[1]!.bytes <= layer.size - Number(m[1]), 'the resumed request re-sent bytes already written');
    assert.equal(await metricValue(mirror.berth.metrics, 'berth_fill_resumes_total'), 1);
  });

  test('a range request joins a running fill and gets exactly its bytes', async () => {
    const layer = throttled.layers[0]!;
    proxy.faults.add({ method: 'GET', path: /\/blobs\//, throttleBytesPerSec: 4 * MiB });
    const full = request(blobUrl(throttled, 0)).then(async (r) => Buffer.from(await r.body.arrayBuffer()));
    await proxy.waitForRequest('GET', new RegExp(`/blobs/${layer.digest}`));
    const start = 3 * MiB;
    const part = await call(blobUrl(throttled, 0), { headers: { range: `bytes=${start}-${start + 999}` } });
    assert.equal(part.status, 206);
    assert.equal(part.headers['content-range'], `bytes ${start}-${start + 999}/${layer.size}`);
    const whole = await full;
    assert.deepEqual(part.body, whole.subarray(start, start + 1000));
    assert.equal(blobGets(layer.digest), 1);
  });

  test('N concurrent requests for an uncached tag make one upstream HEAD and one GET', async () => {
    const replies = await Promise.all(Array.from({ length: 20 }, () => call(`${mirror.url}/v2/${image.repo}/manifests/${image.tag}`, { headers: { accept: ALL_ACCEPT } })));
    for (const r of replies) assert.deepEqual(r.body, image.manifest);
    assert.equal(proxy.count('HEAD', /\/manifests\/1\.0$/), 1);
    assert.equal(proxy.count('GET', /\/manifests\//), 1);
    const statuses = replies.map((r) => r.headers['x-cache']);
    assert.equal(statuses.filter((c) => c === 'MISS').length, 1, statuses.join(','));
    assert.ok(statuses.every((c) => c === 'MISS' || c === 'COALESCED' || c === 'HIT'));
  });
});
