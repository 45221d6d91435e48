/** Issue 14: a large blob is fetched as parallel ranges, and every promise of a fill still holds. */
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { request } from 'undici';
import { startRegistry, type Registry } from '../support/registry.js';
import { makeImageSpec, pushImage, type ImageFixture } from '../support/images.js';
import { startFaultProxy, type FaultProxy, type ProxyRecord } from '../support/proxy.js';
import { digestOfDir, skopeoCopy } from '../support/skopeo.js';
import { makeTempDir, type TempDir } from '../support/tempdir.js';
import { call, fetchOutcome, startMirror, type Mirror } from './harness.js';
import { blobFile } from './resilience-support.js';

const MiB = 1024 * 1024;
const SPLIT = `    parallelFetch:\n      minSize: 8MiB\n      connections: 4\n`;

function upstreamYaml(url: string): string {
  return `  docker.io:\n    url: ${url}\n    retries: 0\n${SPLIT}`;
}

/** The [start, end) a recorded GET asked for (the whole blob when it sent no Range). */
function rangeOf(r: ProxyRecord, size: number): [number, number] {
  const m = /^bytes=(\d+)-(\d*)$/.exec(r.requestHeaders.range ?? '');
  if (!m) return [0, size];
  return [Number(m[1]), m[2] === '' ? size : Math.min(size, Number(m[2]) + 1)];
}

/** The rest of a body read through the iterator that gave its first chunk, hashed with it. */
async function hashRest(it: AsyncIterator<unknown>, first: Buffer): Promise<string> {
  const h = createHash('sha256').update(first);
  for (let r = await it.next(); !r.done; r = await it.next()) h.update(r.value as Buffer);
  return `sha256:${h.digest('hex')}`;
}

/** Sum of a histogram's `_count` or `_sum` series. */
async function histogram(m: Mirror, name: string, series: 'count' | 'sum'): Promise<number> {
  const data = await m.berth.metrics.registry.getSingleMetric(name)!.get();
  return (data.values as Array<{ value: number; metricName?: string }>).filter((v) => v.metricName === `${name}_${series}`).reduce((n, v) => n + v.value, 0);
}

describe('parallel ranged fills', () => {
  let registry: Registry;
  let cdn: Registry;
  let proxy: FaultProxy;
  let cdnProxy: FaultProxy;
  let image: ImageFixture;
  let mirror: Mirror;
  let tmp: TempDir;

  before(async () => {
    registry = await startRegistry();
    cdn = await startRegistry();
    const spec = makeImageSpec({ seed: 'split-app', layerSizes: [24 * MiB + 12_345, 100_000], mediaTypeFamily: 'oci' });
    image = await pushImage(registry.url, 'split/app', '1.0', spec);
    await pushImage(cdn.url, 'split/app', '1.0', spec);
    proxy = await startFaultProxy(registry.url);
    cdnProxy = await startFaultProxy(cdn.url);
    tmp = await makeTempDir('parallel-fetch');
  });

  beforeEach(async () => {
    await mirror?.close();
    proxy.reset();
    cdnProxy.reset();
    mirror = await startMirror({ upstreams: upstreamYaml(proxy.url), dataDir: join(tmp.path, `data-${Date.now()}-${Math.random()}`) });
  });

  after(async () => {
    await mirror?.close();
    await proxy?.close();
    await cdnProxy?.close();
    await registry?.close();
    await cdn?.close();
    await tmp?.close();
  });

  const big = (): ImageFixture['layers'][number] => image.layers[0]!;
  const blobUrl = (): string => `${mirror.url}/v2/${image.repo}/blobs/${big().digest}`;
  const blobGets = (p: FaultProxy = proxy): ProxyRecord[] => p.requests.filter((r) => r.method === 'GET' && r.path.startsWith(`/v2/${image.repo}/blobs/${big().digest}`));

  /** Every byte of the blob was asked for exactly once, over more than one request. */
  function assertEachRangeOnce(gets: ProxyRecord[]): void {
    const size = big().size;
    const ranges = gets.map((r) => rangeOf(r, size)).sort((a, b) => a[0] - b[0]);
    assert.ok(ranges.length > 1, `the blob was not split: ${ranges.length} request(s)`);
    let next = 0;
    for (const [s, e] of ranges) {
      assert.equal(s, next, `ranges ${JSON.stringify(ranges)} overlap or leave a gap`);
      next = e;
    }
    assert.equal(next, size);
    assert.equal(gets.reduce((n, r) => n + r.bytes, 0), size, 'the upstream sent each byte once');
  }

  test('16 concurrent cold pulls of a split blob: all correct, each byte range served once', async () => {
    const host = mirror.url.replace('http://', '');
    const results = await Promise.all(Array.from({ length: 16 }, (_, i) => skopeoCopy(`docker://${host}/${image.ref}`, `dir:${join(tmp.path, `p-${i}`)}`)));
    for (const [i, r] of results.entries()) {
      assert.equal(r.code, 0, `pull ${i}: ${r.stderr}`);
      assert.equal(await digestOfDir(join(tmp.path, `p-${i}`)), image.digest);
    }
    assertEachRangeOnce(blobGets());
    assert.equal(await histogram(mirror, 'berth_fill_connections', 'count'), image.blobs.length);
    assert.ok((await histogram(mirror, 'berth_fill_connections', 'sum')) > image.blobs.length, 'some fill used more than one connection');
  });

  test('a client joining a split fill gets bytes before it ends, and a Range in the middle is right', async () => {
    proxy.faults.add({ method: 'GET', path: /\/blobs\//, throttleBytesPerSec: 3 * MiB });
    const first = await request(blobUrl());
    await proxy.waitForBytes('GET', new RegExp(`/blobs/${big().digest}`), 256 * 1024);
    const joiner = await request(blobUrl());
    assert.equal(joiner.headers['x-cache'], 'COALESCED');
    const it = joiner.body[Symbol.asyncIterator]();
    const chunk = (await it.next()).value as Buffer;
    assert.ok(chunk.length > 0);
    assert.ok(blobGets().some((r) => !r.done), 'the fill had already ended');
    const start = 12 * MiB + 7;
    const part = await call(blobUrl(), { headers: { range: `bytes=${start}-${start + 99_999}` } });
    assert.equal(part.status, 206);
    assert.equal(part.headers['content-range'], `bytes ${start}-${start + 99_999}/${big().size}`);
    const [whole, joined] = await Promise.all([Buffer.from(await first.body.arrayBuffer()), hashRest(it, chunk)]);
    assert.equal(joined, big().digest);
    assert.equal(`sha256:${createHash('sha256').update(whole).digest('hex')}`, big().digest);
    assert.deepEqual(part.body, whole.subarray(start, start + 100_000));
    assertEachRangeOnce(blobGets());
  });

  test('a reset at 50 % of one range costs one extra request, for the rest of that range', async () => {
    proxy.faults.add({ method: 'GET', path: new RegExp(`/blobs/${big().digest}`), resetAfterBytes: 4 * MiB, times: 1 });
    const got = await call(blobUrl());
    assert.equal(got.status, 200);
    assert.equal(`sha256:${createHash('sha256').update(got.body).digest('hex')}`, big().digest);
    const gets = blobGets();
    const [broken, ...rest] = gets;
    const resumed = rest.filter((r) => rangeOf(r, big().size)[1] === rangeOf(broken!, big().size)[1] && rangeOf(r, big().size)[0] > 0);
    assert.equal(resumed.length, 1, `requests: ${gets.map((r) => r.requestHeaders.range).join(', ')}`);
    assert.equal(rangeOf(resumed[0]!, big().size)[0], 4 * MiB, 'the resume starts at the first byte not received');
    assert.equal(gets.reduce((n, r) => n + r.bytes, 0), big().size, 'no byte was sent twice');
  });

  test('an upstream that ignores Range gets one stream, and the blob is right', async () => {
    proxy.faults.add({ method: 'GET', path: new RegExp(`/blobs/${big().digest}`), ignoreRange: true });
    const got = await call(blobUrl());
    assert.equal(got.status, 200);
    assert.equal(`sha256:${createHash('sha256').update(got.body).digest('hex')}`, big().digest);
    assert.equal(blobGets().length, 1);
    assert.equal(blobGets()[0]!.bytes, big().size);
  });

  test('blobs redirected to another host: every range goes there, none with credentials', async () => {
    const path = `/v2/${image.repo}/blobs/${big().digest}`;
    proxy.faults.add({ method: 'GET', path: new RegExp(`${path}$`), status: 307, headers: { location: `${cdnProxy.url}${path}?signed=1` } });
    const got = await call(blobUrl());
    assert.equal(got.status, 200);
    assert.equal(`sha256:${createHash('sha256').update(got.body).digest('hex')}`, big().digest);
    assert.equal(blobGets().length, 1, 'the registry was asked once');
    const atCdn = blobGets(cdnProxy);
    assertEachRangeOnce(atCdn);
    for (const r of atCdn) assert.equal(r.requestHeaders.authorization, undefined, 'credentials went to the CDN');
  });

  test('a corrupt byte in one range: nothing committed, no complete 200', async () => {
    proxy.faults.add({ method: 'GET', path: new RegExp(`/blobs/${big().digest}`), corrupt: 1_000, times: 1 });
    const got = await fetchOutcome(blobUrl());
    assert.ok(!(got.status === 200 && got.complete), `client got a complete ${got.status}`);
    await mirror.berth.fills.idle();
    await assert.rejects(stat(blobFile(mirror.dataDir, big().digest)));
    assert.deepEqual(await readdir(join(mirror.dataDir, 'tmp')), []);
  });
});
