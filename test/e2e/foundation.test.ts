/** Issue 2: skopeo pulls every kind of image through berth; the cache answers the second time. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startRegistry, type Registry } from '../support/registry.js';
import { seedAll, type Fixtures, type ImageFixture } from '../support/images.js';
import type { FaultProxy } from '../support/proxy.js';
import { digestOfDir, skopeoCopy } from '../support/skopeo.js';
import type { TempDir } from '../support/tempdir.js';
import { ALL_ACCEPT, CONTAINERD_ACCEPT, DOCKER_ACCEPT, call, startProxiedMirror, type Mirror, type ProxiedMirror } from './harness.js';

const host = (url: string): string => url.replace(/^http:\/\//, '');

describe('foundation: pull-through with skopeo', () => {
  let registry: Registry;
  let proxy: FaultProxy;
  let fixtures: Fixtures;
  let mirror: Mirror;
  let stack: ProxiedMirror;
  let tmp: TempDir;

  before(async () => {
    registry = await startRegistry();
    fixtures = await seedAll(registry.url);
    stack = await startProxiedMirror(registry.url, 'foundation');
    ({ proxy, tmp, mirror } = stack);
  });

  after(async () => {
    await stack?.close();
    await registry?.close();
  });

  async function pull(ref: string, dest: string, all = false): Promise<string> {
    const out = join(tmp.path, dest);
    const r = await skopeoCopy(`docker://${host(mirror.url)}/${ref}`, `dir:${out}`, { all });
    assert.equal(r.code, 0, `skopeo copy ${ref} failed: ${r.stderr}`);
    return digestOfDir(out);
  }

  const images = (): ImageFixture[] => [fixtures.dockerV2, fixtures.oci, fixtures.ociIndex, fixtures.dockerList, fixtures.big];

  test('every test image pulls by tag and by digest with the upstream digest', async () => {
    for (const img of images()) {
      const all = img.kind === 'index';
      assert.equal(await pull(img.ref, `tag-${img.repo.replace('/', '_')}`, all), img.digest, `${img.ref} by tag`);
      assert.equal(await pull(`${img.repo}@${img.digest}`, `dig-${img.repo.replace('/', '_')}`, all), img.digest, `${img.ref} by digest`);
    }
    // A one-platform pull of an index gets that platform's manifest, unchanged.
    const amd64 = fixtures.ociIndex.children.find((c) => c.platform.architecture === 'amd64')!;
    assert.equal(await pull(fixtures.ociIndex.ref, 'one-platform'), amd64.digest);
  });

  test('one-segment names map to library/ (Docker Hub root mirror)', async () => {
    assert.equal(await pull('alpine:3.19', 'alpine'), fixtures.alpine.digest);
  });

  test('an OCI layout destination works too', async () => {
    const r = await skopeoCopy(`docker://${host(mirror.url)}/${fixtures.oci.ref}`, `oci:${join(tmp.path, 'layout')}:x`, { extraArgs: ['--preserve-digests'] });
    assert.equal(r.code, 0, r.stderr);
    const index = JSON.parse(await readFile(join(tmp.path, 'layout', 'index.json'), 'utf8')) as { manifests: Array<{ digest: string }> };
    assert.equal(index.manifests[0]!.digest, fixtures.oci.digest);
    const blobs = await readdir(join(tmp.path, 'layout', 'blobs', 'sha256'));
    assert.ok(blobs.includes(fixtures.oci.digest.slice(7)));
  });

  test('a second pull makes no upstream blob or manifest GET, and a fresh tag no request at all', async () => {
    const before = proxy.requests.length;
    for (const img of images()) await pull(img.ref, `again-${img.repo.replace('/', '_')}`, img.kind === 'index');
    const during = proxy.requests.slice(before);
    assert.deepEqual(during.map((r) => `${r.method} ${r.path}`), [], 'upstream saw requests on a warm pull');
  });

  test('manifests carry the exact bytes, type, digest and length; HEAD matches', async () => {
    for (const img of images()) {
      const get = await call(`${mirror.url}/v2/${img.repo}/manifests/${img.tag}`, { headers: { accept: ALL_ACCEPT } });
      assert.equal(get.status, 200);
      assert.deepEqual(get.body, img.manifest);
      assert.equal(get.headers['content-type'], img.mediaType);
      assert.equal(get.headers['docker-content-digest'], img.digest);
      assert.equal(get.headers['content-length'], String(img.size));
      const head = await call(`${mirror.url}/v2/${img.repo}/manifests/${img.digest}`, { method: 'HEAD' });
      assert.equal(head.status, 200);
      assert.equal(head.body.length, 0);
      assert.equal(head.headers['docker-content-digest'], img.digest);
      assert.equal(head.headers['content-length'], String(img.size));
    }
  });

  test('a client that does not accept an index is not handed one', async () => {
    const r = await call(`${mirror.url}/v2/${fixtures.ociIndex.repo}/manifests/${fixtures.ociIndex.tag}`, {
      headers: { accept: 'application/vnd.docker.distribution.manifest.v2+json' },
    });
    assert.notEqual(r.headers['content-type'], 'application/vnd.oci.image.index.v1+json');
  });

  test("a tag resolved with Docker's Accept list answers a containerd client with no upstream request", async () => {
    const img = fixtures.dockerV2;
    const url = `${mirror.url}/v2/${img.repo}/manifests/${img.tag}`;
    assert.equal((await call(url, { headers: { accept: DOCKER_ACCEPT } })).headers['docker-content-digest'], img.digest);
    proxy.reset();
    const r = await call(url, { headers: { accept: CONTAINERD_ACCEPT } });
    assert.equal(r.headers['docker-content-digest'], img.digest);
    assert.equal(r.headers['content-type'], img.mediaType);
    assert.equal(proxy.requests.length, 0, 'upstream requests for the containerd client');
  });

  test('blobs: HEAD from the cache, Range 206 and 416', async () => {
    const layer = fixtures.oci.layers[1]!;
    const url = `${mirror.url}/v2/${fixtures.oci.repo}/blobs/${layer.digest}`;
    const head = await call(url, { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.headers['content-length'], String(layer.size));
    assert.equal(head.headers['accept-ranges'], 'bytes');
    const full = await call(url);
    const part = await call(url, { headers: { range: 'bytes=10-19' } });
    assert.equal(part.status, 206);
    assert.equal(part.headers['content-range'], `bytes 10-19/${layer.size}`);
    assert.deepEqual(part.body, full.body.subarray(10, 20));
    const tail = await call(url, { headers: { range: 'bytes=-5' } });
    assert.deepEqual(tail.body, full.body.subarray(layer.size - 5));
    const beyond = await call(url, { headers: { range: `bytes=${layer.size}-` } });
    assert.equal(beyond.status, 416);
    assert.equal(beyond.headers['content-range'], `bytes */${layer.size}`);
  });

  test('tags/list is passed through', async () => {
    const r = await call(`${mirror.url}/v2/${fixtures.oci.repo}/tags/list`);
    assert.equal(r.status, 200);
    assert.deepEqual(JSON.parse(r.body.toString()), { name: fixtures.oci.repo, tags: ['1.0'] });
  });

  test('/v2/ answers with the API version header; writes get 405 UNSUPPORTED', async () => {
    const base = await call(`${mirror.url}/v2/`);
    assert.equal(base.status, 200);
    assert.equal(base.headers['docker-distribution-api-version'], 'registry/2.0');
    assert.equal(base.body.toString(), '{}');
    for (const [method, path] of [
      ['POST', '/v2/test/oci/blobs/uploads/'],
      ['PUT', `/v2/test/oci/manifests/1.0`],
      ['DELETE', `/v2/test/oci/blobs/${fixtures.oci.layers[0]!.digest}`],
      ['PATCH', '/v2/test/oci/blobs/uploads/abc'],
    ] as const) {
      const r = await call(`${mirror.url}${path}`, { method });
      assert.equal(r.status, 405, `${method} ${path}`);
      assert.equal(JSON.parse(r.body.toString()).errors[0].code, 'UNSUPPORTED');
    }
  });

  test('unknown images are 404 with the right OCI code', async () => {
    const m = await call(`${mirror.url}/v2/test/oci/manifests/nope`);
    assert.equal(m.status, 404);
    assert.equal(JSON.parse(m.body.toString()).errors[0].code, 'MANIFEST_UNKNOWN');
    const b = await call(`${mirror.url}/v2/test/oci/blobs/sha256:${'0'.repeat(64)}`);
    assert.equal(b.status, 404);
    assert.equal(JSON.parse(b.body.toString()).errors[0].code, 'BLOB_UNKNOWN');
  });
});
