/**
 * The status page in a real headless browser (Debian's chromium driven by playwright-core):
 * after a cold and a warm pull it shows the hit ratio and bytes saved that /metrics shows, a
 * running fill with its progress, and it stays behind client auth when that is on.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { makeImageSpec, pushImage, type ImageFixture } from '../support/images.js';
import { startFaultProxy, type FaultProxy } from '../support/proxy.js';
import { startRegistry, type Registry } from '../support/registry.js';
import { makeTempDir, type TempDir } from '../support/tempdir.js';
import { ALL_ACCEPT, call, startMirror, type Mirror } from './harness.js';
import { waitUntil } from './resilience-support.js';

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const CLIENT_TOKEN = 'status-client-token-8f7e';

/** Sums a metric's samples in Prometheus text, over the lines whose labels pass `where`. */
function metricSum(text: string, name: string, where: (labels: string) => boolean = () => true): number {
  let total = 0;
  for (const line of text.split('\n')) {
    const m = new RegExp(`^${name}(?:\\{([^}]*)\\})? (\\S+)$`).exec(line);
    if (m && where(m[1] ?? '')) total += Number(m[2]);
  }
  return total;
}

async function pullImage(url: string, img: ImageFixture): Promise<void> {
  const m = await call(`${url}/v2/${img.repo}/manifests/${img.tag}`, { headers: { accept: ALL_ACCEPT } });
  assert.equal(m.status, 200);
  for (const b of img.blobs) {
    const r = await call(`${url}/v2/${img.repo}/blobs/${b.digest}`);
    assert.equal(r.status, 200);
    assert.equal(r.body.length, b.size);
  }
}

interface StatusJson {
  cache: { hitRatio: number | null; bytesSaved: number; pullsAvoided: number; sizeBytes: number; maxSizeBytes: number };
  upstreams: Array<{ name: string; reachability: { state: string }; breaker: string | null }>;
  fills: Array<{ digest: string; written: number; size: number }>;
  topImages: Array<{ image: string; pulls: number }>;
  history: Array<{ t: string; hitRatio: number | null; bytesSaved: number }>;
}

describe('status page', () => {
  let registry: Registry;
  let proxy: FaultProxy;
  let mirror: Mirror;
  let browser: Browser;
  let tmp: TempDir;
  let image: ImageFixture;
  let big: ImageFixture;

  before(async () => {
    tmp = await makeTempDir('status');
    registry = await startRegistry();
    image = await pushImage(registry.url, 'web/app', '1.0', makeImageSpec({ seed: 'status-page', layerSizes: [200_000, 60_000], mediaTypeFamily: 'oci' }));
    big = await pushImage(registry.url, 'web/big', '1.0', makeImageSpec({ seed: 'status-big', layerSizes: [2_000_000], mediaTypeFamily: 'oci' }));
    proxy = await startFaultProxy(registry.url);
    const upstreams = `  docker.io:\n    url: ${proxy.url}\n    retries: 0\n    timeouts: { idle: 1s }\n`;
    mirror = await startMirror({ upstreams, storage: '  maxSize: 1GiB\n' });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  });

  after(async () => {
    await browser?.close();
    await mirror?.close();
    await proxy?.close();
    await registry?.close();
    await tmp?.close();
  });

  test('after a cold and a warm pull it shows the hit ratio and bytes saved of /metrics', async () => {
    await pullImage(mirror.url, image);
    await pullImage(mirror.url, image);
    const metrics = (await call(`${mirror.url}/metrics`)).body.toString();
    const lookups = metricSum(metrics, 'berth_cache_requests_total');
    const hits = metricSum(metrics, 'berth_cache_requests_total', (l) => /result="(hit|stale)"/.test(l));
    const saved = metricSum(metrics, 'berth_served_bytes_total', (l) => l.includes('source="cache"'));
    assert.ok(lookups > 0 && hits > 0);
    assert.equal(saved, image.size + image.blobs.reduce((n, b) => n + b.size, 0), 'the warm pull came from the cache');

    const json = JSON.parse((await call(`${mirror.url}/status.json`)).body.toString()) as StatusJson;
    assert.equal(json.cache.bytesSaved, saved);
    assert.equal(json.cache.hitRatio, hits / lookups);
    assert.equal(json.cache.pullsAvoided, 1, 'the warm manifest GET never went upstream');
    assert.equal(json.cache.maxSizeBytes, 1024 ** 3);
    assert.ok(json.cache.sizeBytes >= saved - image.size);
    assert.deepEqual(json.topImages, [{ image: 'docker.io/web/app', pulls: 2 }]);
    assert.equal(json.upstreams[0]?.breaker, 'closed');
    assert.ok(json.history.length >= 1);

    const page = await browser.newPage();
    try {
      const res = await page.goto(`${mirror.url}/`);
      assert.equal(res?.status(), 200);
      assert.match(res?.headers()['content-security-policy'] ?? '', /default-src 'none'/);
      assert.equal(Number(await page.getAttribute('#hit-ratio', 'data-value')), hits / lookups);
      assert.equal(await page.textContent('#hit-ratio'), `${((hits / lookups) * 100).toFixed(1)} %`);
      assert.equal(Number(await page.getAttribute('#bytes-saved', 'data-value')), saved);
      assert.match((await page.textContent('#bytes-saved')) ?? '', /KiB$/);
      assert.equal(await page.locator('svg.chart [data-series="hit-ratio"] > *').count() > 0, true, 'the chart draws the hit ratio');
      assert.match((await page.textContent('#top-images')) ?? '', /docker\.io\/web\/app/);
      assert.match((await page.textContent('tr[data-upstream="docker.io"]')) ?? '', /reachable/);
      assert.match((await page.textContent('#cache-size')) ?? '', /of 1\.00 GiB/);
      const shot = join(tmp.path, 'status.png');
      await page.screenshot({ path: shot, fullPage: true });
      const png = await readFile(shot);
      assert.ok(png.length > 1000, `screenshot of ${png.length} bytes`);
      assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'a PNG');
      if (process.env.BERTH_STATUS_SCREENSHOT) await page.screenshot({ path: process.env.BERTH_STATUS_SCREENSHOT, fullPage: true });
    } finally {
      await page.close();
    }
  });

  test('a running fill shows with its progress; every client response says where it came from', async () => {
    const layer = big.layers[0]!;
    const path = new RegExp(`/blobs/${layer.digest}$`);
    proxy.fault({ method: 'GET', path, stallAfterBytes: 700_000, times: 1 });
    const client = call(`${mirror.url}/v2/${big.repo}/blobs/${layer.digest}`);
    let fill: StatusJson['fills'][number] | undefined;
    await waitUntil('the fill to be half-way', async () => {
      const json = JSON.parse((await call(`${mirror.url}/status.json`)).body.toString()) as StatusJson;
      fill = json.fills.find((f) => f.digest === layer.digest && f.written >= 700_000);
      return fill !== undefined;
    });
    assert.equal(fill?.size, layer.size);
    const page = await browser.newPage();
    try {
      await page.goto(`${mirror.url}/`);
      const bar = page.locator('#fills [role="progressbar"]');
      assert.equal(await bar.count(), 1);
      assert.equal(Number(await bar.getAttribute('aria-valuemax')), layer.size);
      assert.ok(Number(await bar.getAttribute('aria-valuenow')) >= 700_000);
      assert.match((await page.textContent('#fills')) ?? '', /KiB \/ 1\.91 MiB/);
    } finally {
      await page.close();
    }
    // The stalled body times out (idle 1 s) and the fill resumes with a Range request.
    const r = await client;
    assert.equal(r.status, 200);
    assert.equal(r.body.length, layer.size);
    assert.equal(r.headers['x-cache'], 'MISS');

    const tags = await call(`${mirror.url}/v2/${image.repo}/tags/list`);
    assert.equal(tags.status, 200);
    assert.equal(tags.headers['x-cache'], 'MISS', 'tag lists are relayed, never cached');
    const referrers = await call(`${mirror.url}/v2/${image.repo}/referrers/${image.digest}`);
    assert.ok(['HIT', 'MISS'].includes(referrers.headers['x-cache'] ?? ''), `referrers X-Cache: ${referrers.headers['x-cache']}`);
  });

  test('behind client auth when that is on; off when disabled', async () => {
    const upstreams = `  docker.io:\n    url: ${proxy.url}\n    retries: 0\n`;
    const guarded = await startMirror({ upstreams, extra: `auth:\n  tokens:\n    - { name: ci, token: ${CLIENT_TOKEN} }\n` });
    const off = await startMirror({ upstreams, extra: 'status: { enabled: false }\n' });
    try {
      for (const path of ['/', '/status.json']) {
        const anon = await call(`${guarded.url}${path}`);
        assert.equal(anon.status, 401, path);
        assert.match(anon.headers['www-authenticate'] ?? '', /^Basic realm=/);
        const ok = await call(`${guarded.url}${path}`, { headers: { authorization: `Bearer ${CLIENT_TOKEN}` } });
        assert.equal(ok.status, 200, path);
        assert.equal((await call(`${off.url}${path}`)).status, 404, path);
      }
    } finally {
      await guarded.close();
      await off.close();
    }
  });
});
