import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, beforeEach, describe, test } from 'node:test';
import { Agent, request } from 'undici';
import { makeImageSpec, pushImage, type ImageFixture } from './images.js';
import { seededRandom } from './prng.js';
import { rateLimitFault, startFaultProxy, type FaultProxy } from './proxy.js';
import { startRegistry, type Registry } from './registry.js';
import { RegistryClient } from './registry-client.js';

const MiB = 1024 * 1024;

/** GETs a URL and reads the whole body, hashing it; rejects if the body breaks. */
async function fetchBody(url: string, opts: { bodyTimeout?: number } = {}): Promise<{ status: number; size: number; digest: string; headers: Record<string, unknown> }> {
  const res = await request(url, { bodyTimeout: opts.bodyTimeout ?? 30_000 });
  const h = createHash('sha256');
  let size = 0;
  for await (const c of res.body) {
    h.update(c as Buffer);
    size += (c as Buffer).length;
  }
  return { status: res.statusCode, size, digest: `sha256:${h.digest('hex')}`, headers: res.headers };
}

/** Like fetchBody but reports how many bytes arrived before the body failed. */
async function fetchUntilError(url: string, bodyTimeout = 30_000): Promise<{ received: number; error: Error | undefined; declared: number }> {
  const res = await request(url, { bodyTimeout });
  let received = 0;
  try {
    for await (const c of res.body) received += (c as Buffer).length;
    return { received, error: undefined, declared: Number(res.headers['content-length']) };
  } catch (e) {
    return { received, error: e as Error, declared: Number(res.headers['content-length']) };
  }
}

describe('fault proxy', () => {
  let reg: Registry;
  let proxy: FaultProxy;
  let img: ImageFixture;
  let blobUrl: string;
  let layerDigest: string;
  const layerSize = 2 * MiB;

  before(async () => {
    reg = await startRegistry();
    img = await pushImage(reg.url, 'test/proxied', '1', makeImageSpec({ seed: 'proxy', layerSizes: [layerSize], mediaTypeFamily: 'oci' }));
    proxy = await startFaultProxy(reg.url);
    layerDigest = img.layers[0]?.digest ?? '';
    blobUrl = `${proxy.url}/v2/test/proxied/blobs/${layerDigest}`;
  });
  after(async () => {
    await proxy?.close();
    await reg?.close();
  });
  beforeEach(() => proxy.reset());

  test('forwards and counts requests', async () => {
    const c = new RegistryClient(proxy.url);
    const m = await c.getManifest(img.repo, img.tag);
    assert.equal(m.digest, img.digest);
    assert.equal(m.mediaType, img.mediaType);
    await c.getManifest(img.repo, img.tag);
    const b = await fetchBody(blobUrl);
    assert.equal(b.digest, layerDigest);
    assert.equal(proxy.count('GET', /\/manifests\/1$/), 2);
    assert.equal(proxy.counts[`GET /v2/${img.repo}/blobs/${layerDigest}`], 1);
    const blobRec = proxy.requests.find((r) => r.path.includes('/blobs/'));
    assert.equal(blobRec?.status, 200);
    assert.equal(blobRec?.bytes, layerSize);
  });

  test('pushes (POST/PATCH/PUT) go through with Location rewritten to the proxy', async () => {
    const spec = makeImageSpec({ seed: 'via-proxy', layerSizes: [9 * MiB, 100], mediaTypeFamily: 'docker' });
    const f = await pushImage(proxy.url, 'test/pushed', 'x', spec);
    assert.equal(proxy.count('PATCH', /blobs\/uploads/), 1);
    assert.ok(proxy.count('PUT', /blobs\/uploads/) >= 2);
    const m = await new RegistryClient(reg.url).getManifest('test/pushed', 'x');
    assert.equal(m.digest, f.digest);
  });

  test('status 503 for the first two requests, then pass-through', async () => {
    const h = proxy.fault({ method: 'GET', path: /\/manifests\//, status: 503, times: 2 });
    const c = new RegistryClient(proxy.url);
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) statuses.push((await c.getManifest(img.repo, img.tag)).status);
    assert.deepEqual(statuses, [503, 503, 200]);
    assert.equal(h.hits, 2);
    assert.deepEqual(proxy.requests.filter((r) => r.path.includes('/manifests/')).map((r) => r.fault ?? ''), ['status', 'status', '']);
  });

  test('429 with Retry-After and ratelimit headers', async () => {
    proxy.fault(rateLimitFault(/\/manifests\//, { retryAfterSec: 7, times: 1 }));
    const r = await new RegistryClient(proxy.url).getManifest(img.repo, img.tag);
    assert.equal(r.status, 429);
    assert.equal(r.headers['retry-after'], '7');
    assert.equal(r.headers['ratelimit-remaining'], '0;w=21600');
    assert.match(r.body.toString(), /TOOMANYREQUESTS/);
  });

  test('corrupt flips one byte: same length, different sha256', async () => {
    proxy.fault({ path: /\/blobs\//, corrupt: 1_000_000, times: 1 });
    const bad = await fetchBody(blobUrl);
    assert.equal(bad.size, layerSize);
    assert.notEqual(bad.digest, layerDigest);
    assert.equal((await fetchBody(blobUrl)).digest, layerDigest);
  });

  test('resetAfterBytes delivers exactly N bytes then breaks the body', async () => {
    proxy.fault({ path: /\/blobs\//, resetAfterBytes: 300_000 });
    const r = await fetchUntilError(blobUrl);
    assert.equal(r.declared, layerSize);
    assert.equal(r.received, 300_000);
    assert.ok(r.error, 'short body must be an error');
  });

  test('a cut at byte 0 sends the headers, breaks the body before its first byte, and the proxy lives on', async () => {
    for (const [path, url] of [[/\/blobs\//, blobUrl], [/\/manifests\//, `${proxy.url}/v2/${img.repo}/manifests/${img.digest}`]] as const) {
      proxy.fault({ path, resetAfterBytes: 0, times: 1 });
      const r = await fetchUntilError(url);
      assert.ok(r.declared > 0);
      assert.equal(r.received, 0);
      assert.ok(r.error, 'an empty body must be an error');
    }
    assert.equal((await fetchBody(blobUrl)).digest, layerDigest, 'the proxy still serves');
  });

  test('stallAfterBytes stops sending but keeps the connection open', async () => {
    proxy.fault({ path: /\/blobs\//, stallAfterBytes: 100_000 });
    const stalled = fetchUntilError(blobUrl, 400);
    const rec = await proxy.waitForBytes('GET', /\/blobs\//, 100_000);
    assert.equal(rec.done, false);
    const r = await stalled;
    assert.equal(r.received, 100_000);
    assert.match(String(r.error?.name), /BodyTimeout/);
  });

  test('throttle paces the body; bodyProgress lets a test wait for 50%', async () => {
    proxy.fault({ path: /\/blobs\//, throttleBytesPerSec: 4 * MiB });
    const started = performance.now();
    const done = fetchBody(blobUrl);
    const half = await proxy.waitForBytes('GET', /\/blobs\//, layerSize / 2);
    assert.equal(half.done, false);
    assert.ok(half.bytes < layerSize);
    const r = await done;
    assert.equal(r.digest, layerDigest);
    assert.ok(performance.now() - started >= 350, 'throttled to ~0.5 s');
  });

  test('global bandwidth cap', async () => {
    proxy.setBandwidth(8 * MiB);
    try {
      const started = performance.now();
      await Promise.all([fetchBody(blobUrl), fetchBody(blobUrl)]);
      assert.ok(performance.now() - started >= 400, '4 MiB at 8 MiB/s');
    } finally {
      proxy.setBandwidth(undefined);
    }
  });

  test('stopListening refuses connections for real; startListening restores the same port', async () => {
    const port = proxy.port;
    await proxy.stopListening();
    const fresh = new Agent();
    await assert.rejects(request(`${proxy.url}/v2/`, { dispatcher: fresh }), (e: Error & { code?: string; cause?: { code?: string } }) => {
      assert.equal(e.code ?? e.cause?.code, 'ECONNREFUSED');
      return true;
    });
    await fresh.close();
    await proxy.startListening();
    assert.equal(proxy.port, port);
    assert.equal((await fetchBody(`${proxy.url}/v2/`)).status, 200);
  });

  test('drop and hang', async () => {
    proxy.fault({ path: /\/manifests\//, drop: true, times: 1 });
    await assert.rejects(request(`${proxy.url}/v2/${img.repo}/manifests/${img.tag}`));
    proxy.fault({ path: /\/manifests\//, hang: true, times: 1 });
    const ac = new AbortController();
    const hung = request(`${proxy.url}/v2/${img.repo}/manifests/${img.tag}`, { signal: ac.signal });
    const rec = await proxy.waitForRequest('GET', /\/manifests\//, 2);
    assert.equal(rec.fault, 'hang');
    ac.abort();
    await assert.rejects(hung);
  });

  test('a fault with a chance hits that share of matching requests, the same ones again from the same seed', async () => {
    const seeded = await startFaultProxy(reg.url, { random: seededRandom(7).next });
    try {
      const handle = seeded.fault({ method: 'GET', path: /^\/v2\/$/, status: 503, chance: 0.25 });
      const statuses: number[] = [];
      for (let i = 0; i < 100; i++) {
        const res = await request(`${seeded.url}/v2/`);
        await res.body.dump();
        statuses.push(res.statusCode);
      }
      const replay = seededRandom(7);
      const expected = statuses.map(() => (replay.next() < 0.25 ? 503 : 200));
      assert.deepEqual(statuses, expected);
      assert.equal(handle.hits, expected.filter((s) => s === 503).length);
      assert.ok(handle.hits >= 10 && handle.hits <= 40, `${handle.hits} of 100 hit`);
    } finally {
      await seeded.close();
    }
  });
});
