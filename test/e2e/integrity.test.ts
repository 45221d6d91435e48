/** Issue 2: corrupt upstream bytes never reach the cache; hostile input gets 4xx, never a file. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startRegistry, type Registry } from '../support/registry.js';
import { seedAll, type Fixtures } from '../support/images.js';
import type { FaultProxy } from '../support/proxy.js';
import type { TempDir } from '../support/tempdir.js';
import { call, errorCode, fetchOutcome, startProxiedMirror, type Mirror, type ProxiedMirror } from './harness.js';


describe('integrity and hostile input', () => {
  let registry: Registry;
  let proxy: FaultProxy;
  let fixtures: Fixtures;
  let mirror: Mirror;
  let stack: ProxiedMirror;
  let tmp: TempDir;

  before(async () => {
    registry = await startRegistry();
    fixtures = await seedAll(registry.url, undefined, { bigLayerSizes: [256 * 1024] });
    stack = await startProxiedMirror(registry.url, 'integrity');
    ({ proxy, tmp, mirror } = stack);
  });

  after(async () => {
    await stack?.close();
    await registry?.close();
  });

  test('a blob whose upstream bytes do not match its digest is never stored nor served whole', async () => {
    const layer = fixtures.dockerV2.layers[1]!;
    const path = new RegExp(`/blobs/${layer.digest}`);
    const fault = proxy.faults.add({ method: 'GET', path, corrupt: Math.floor(layer.size / 2) });
    const url = `${mirror.url}/v2/${fixtures.dockerV2.repo}/blobs/${layer.digest}`;
    const got = await fetchOutcome(url);
    assert.ok(!(got.status === 200 && got.complete), `client got a complete ${got.status} of ${got.bytes} bytes`);
    assert.ok(got.bytes < layer.size);
    assert.equal(fault.hits, 1);
    const blobFile = join(mirror.dataDir, 'blobs', 'sha256', layer.digest.slice(7, 9), layer.digest.slice(7));
    await assert.rejects(stat(blobFile), 'corrupt blob was committed');
    assert.deepEqual(await readdir(join(mirror.dataDir, 'tmp')), [], 'temp file left behind');
    // Upstream fixed: the next request starts a new fill and succeeds.
    fault.remove();
    const fixed = await call(url);
    assert.equal(fixed.status, 200);
    assert.equal(fixed.body.length, layer.size);
    // The last byte goes out once verified; the cache entry appears once durable.
    await mirror.berth.fills.idle();
    await stat(blobFile);
  });

  test('a manifest whose bytes do not match the requested digest is refused', async () => {
    const img = fixtures.oci;
    const fault = proxy.faults.add({ method: 'GET', path: new RegExp(`/manifests/${img.digest}`), corrupt: 10 });
    const r = await call(`${mirror.url}/v2/${img.repo}/manifests/${img.digest}`);
    fault.remove();
    assert.equal(r.status, 503);
    assert.equal(errorCode(r), 'UNAVAILABLE');
    const again = await call(`${mirror.url}/v2/${img.repo}/manifests/${img.digest}`);
    assert.equal(again.status, 200);
    assert.deepEqual(again.body, img.manifest);
  });

  test('malformed names, tags, digests and ranges get 4xx OCI errors', async () => {
    const layer = fixtures.oci.layers[0]!;
    await call(`${mirror.url}/v2/${fixtures.oci.repo}/blobs/${layer.digest}`);
    const cases: Array<[string, Record<string, string>, number, string]> = [
      ['/v2/UPPER/case/manifests/1.0', {}, 400, 'NAME_INVALID'],
      ['/v2/test/oci/manifests/-bad-tag', {}, 400, 'TAG_INVALID'],
      [`/v2/test/oci/manifests/${'t'.repeat(129)}`, {}, 400, 'TAG_INVALID'],
      ['/v2/test/oci/blobs/sha256:1234', {}, 400, 'DIGEST_INVALID'],
      ['/v2/test/oci/blobs/md5:d41d8cd98f00b204e9800998ecf8427e', {}, 400, 'DIGEST_INVALID'],
      [`/v2/test/oci/blobs/sha256:${'G'.repeat(64)}`, {}, 400, 'DIGEST_INVALID'],
      [`/v2/test/oci/manifests/sha256:${'a'.repeat(63)}`, {}, 400, 'DIGEST_INVALID'],
      [`/v2/${fixtures.oci.repo}/blobs/${layer.digest}`, { range: 'bytes=abc' }, 416, 'RANGE_INVALID'],
      [`/v2/${fixtures.oci.repo}/blobs/${layer.digest}`, { range: 'bytes=9-3' }, 416, 'RANGE_INVALID'],
      [`/v2/${fixtures.oci.repo}/blobs/${layer.digest}`, { range: 'items=0-1' }, 416, 'RANGE_INVALID'],
    ];
    for (const [path, headers, status, code] of cases) {
      const r = await call(`${mirror.url}${path}`, { headers });
      assert.equal(r.status, status, `${path} ${JSON.stringify(headers)}`);
      assert.equal(errorCode(r), code, `${path}`);
    }
  });

  test('path traversal never reaches the filesystem or the upstream', async () => {
    const sentinel = join(tmp.path, 'outside');
    await writeFile(sentinel, 'secret');
    const before = await stat(sentinel);
    const seen = proxy.requests.length;
    const paths = [
      '/v2/../../etc/passwd/manifests/latest',
      '/v2/test/../../outside/manifests/latest',
      '/v2/a%2F..%2F..%2Foutside/manifests/latest',
      '/v2/%2e%2e/blobs/sha256:' + 'a'.repeat(64),
      '/v2//etc/manifests/latest',
      '/v2/test/oci/blobs/sha256:..%2F..%2F..%2Foutside',
      '/v2/test/oci/blobs/sha256%3A' + 'a'.repeat(64),
      '/v2/test/oci/manifests/..%2F..%2Foutside',
      '/v2/./test/manifests/latest',
    ];
    for (const p of paths) {
      const r = await call(`${mirror.url}${p}`);
      assert.ok(r.status >= 400 && r.status < 500, `${p} → ${r.status}`);
      assert.ok(errorCode(r) !== undefined, `${p} has an OCI error body`);
    }
    assert.equal(proxy.requests.length, seen, 'a hostile path was forwarded upstream');
    const afterStat = await stat(sentinel);
    assert.equal(afterStat.mtimeMs, before.mtimeMs);
  });
});
