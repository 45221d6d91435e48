/** Metrics after a cold and a warm pull, the separate metrics listener, X-Cache, and /readyz. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { rename, writeFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { makeImageSpec, pushImage, type ImageFixture } from '../support/images.js';
import { freePort } from '../support/ports.js';
import { run } from '../support/proc.js';
import { startRegistry, type Registry } from '../support/registry.js';
import { digestOfDir, skopeoCopy } from '../support/skopeo.js';
import { makeTempDir, type TempDir } from '../support/tempdir.js';
import { ALL_ACCEPT, call, startMirror, type Mirror } from './harness.js';

/** Sum of the samples of `name` whose labels include `labels`, from Prometheus text. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number {
  let total = 0;
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((p) => [p[1], p[2]]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) total += Number(m[3]);
  }
  return total;
}

/** Makes `dir` refuse new files: chattr +i where the file system supports it, else a file in its place. */
async function makeUnwritable(dir: string): Promise<() => Promise<void>> {
  const chattr = await run('chattr', ['+i', dir]).catch(() => undefined);
  if (chattr?.code === 0) {
    const probe = join(dir, '.can-write');
    const stillWritable = await writeFile(probe, 'x').then(() => true, () => false);
    if (!stillWritable) return async () => void (await run('chattr', ['-i', dir]));
    await rm(probe, { force: true });
    await run('chattr', ['-i', dir]);
  }
  await rename(dir, `${dir}.away`);
  await writeFile(dir, 'not a directory');
  return async () => {
    await rm(dir, { force: true });
    await rename(`${dir}.away`, dir);
  };
}

describe('metrics and readiness', () => {
  let registry: Registry;
  let image: ImageFixture;
  let mirror: Mirror;
  let tmp: TempDir;
  let metricsUrl: string;

  before(async () => {
    tmp = await makeTempDir('metrics');
    registry = await startRegistry();
    image = await pushImage(registry.url, 'test/metrics', '1.0', makeImageSpec({ seed: 'metrics', layerSizes: [12_345, 67_890, 4_096], mediaTypeFamily: 'oci' }));
    const closed = await freePort();
    const upstreams = `  docker.io:\n    url: ${JSON.stringify(registry.url)}\n    retries: 0\n  down.test:\n    url: "http://127.0.0.1:${closed}"\n    retries: 0\n`;
    mirror = await startMirror({ upstreams, extra: 'metrics:\n  listen: 127.0.0.1:0\n' });
    assert.ok(mirror.berth.metricsUrl, 'a separate metrics listener');
    metricsUrl = `${mirror.berth.metricsUrl}/metrics`;
  });

  after(async () => {
    await mirror?.close();
    await registry?.close();
    await tmp?.close();
  });

  const pull = async (name: string): Promise<void> => {
    const out = join(tmp.path, name);
    const r = await skopeoCopy(`docker://${mirror.url.replace('http://', '')}/${image.ref}`, `dir:${out}`);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await digestOfDir(out), image.digest);
  };

  test('a cold and a warm pull give exact hit, miss and byte counts', async () => {
    await pull('cold');
    await pull('warm');
    const res = await call(metricsUrl);
    assert.equal(res.status, 200);
    const text = res.body.toString('utf8');
    const blobs = image.blobs.length;
    const blobBytes = image.blobs.reduce((n, b) => n + b.size, 0);
    const pulled = blobBytes + image.size;
    const expect = (name: string, labels: Record<string, string>, value: number): void =>
      assert.equal(sample(text, name, labels), value, `${name}${JSON.stringify(labels)}\n${text.split('\n').filter((l) => l.startsWith('berth_http_requests_total')).join('\n')}`);

    expect('berth_cache_requests_total', { kind: 'blob', result: 'miss' }, blobs);
    expect('berth_cache_requests_total', { kind: 'blob', result: 'hit' }, blobs);
    expect('berth_cache_requests_total', { kind: 'tag', result: 'miss' }, 1);
    expect('berth_cache_requests_total', { kind: 'tag', result: 'hit' }, 1);
    expect('berth_cache_requests_total', { kind: 'manifest', result: 'miss' }, 1);
    expect('berth_cache_requests_total', { kind: 'manifest', result: 'hit' }, 1);
    expect('berth_served_bytes_total', { source: 'upstream' }, pulled);
    expect('berth_served_bytes_total', { source: 'cache' }, pulled);
    expect('berth_upstream_bytes_total', { upstream: 'docker.io' }, blobBytes);
    // A fill asks for its first part with Range (to learn whether the upstream splits): a 206.
    expect('berth_upstream_requests_total', { upstream: 'docker.io', kind: 'blob_get', status: '206' }, blobs);
    expect('berth_upstream_requests_total', { upstream: 'docker.io', kind: 'manifest_head', status: '200' }, 1);
    expect('berth_upstream_requests_total', { upstream: 'docker.io', kind: 'manifest_get', status: '200' }, 1);
    expect('berth_http_requests_total', { route: 'blob', method: 'GET', status: '200' }, 2 * blobs);
    expect('berth_http_requests_total', { route: 'manifest', method: 'GET', status: '200' }, 2);
    expect('berth_fills_total', { result: 'committed' }, blobs);
    expect('berth_fills_in_progress', {}, 0);
    expect('berth_cache_size_bytes', {}, pulled);
    expect('berth_http_request_duration_seconds_count', { route: 'blob' }, 2 * blobs);
    expect('berth_upstream_request_duration_seconds_count', { upstream: 'docker.io', kind: 'blob_get' }, blobs);
    for (const name of [
      'berth_upstream_ratelimit_remaining',
      'berth_upstream_ratelimit_limit',
      'berth_cache_evictions_total',
      'berth_storage_write_errors_total',
    ]) {
      assert.match(text, new RegExp(`^# TYPE ${name} `, 'm'), name);
    }
    // The main listener does not serve /metrics when a separate one is configured.
    assert.equal((await call(`${mirror.url}/metrics`)).status, 404);
  });

  test('X-Cache and the berth identity headers on warm manifests and blobs', async () => {
    // skopeo resolved the tag with another Accept list; this one names the cached type: a HIT.
    const url = `${mirror.url}/v2/${image.repo}/manifests/${image.tag}`;
    const m = await call(url, { headers: { accept: ALL_ACCEPT } });
    assert.equal(m.headers['x-cache'], 'HIT');
    const byDigest = await call(`${mirror.url}/v2/${image.repo}/manifests/${image.digest}`, { headers: { accept: ALL_ACCEPT } });
    assert.equal(byDigest.headers['x-cache'], 'HIT');
    assert.equal(m.headers['server'], 'berth');
    assert.match(m.headers['x-berth-version'] ?? '', /^\d+\.\d+\.\d+/);
    for (const method of ['GET', 'HEAD'] as const) {
      const b = await call(`${mirror.url}/v2/${image.repo}/blobs/${image.blobs[1]!.digest}`, { method });
      assert.equal(b.headers['x-cache'], 'HIT', method);
    }
  });

  test('/readyz reports upstreams without failing on them, and fails while the store is unwritable', async () => {
    const ready = await call(`${mirror.url}/readyz`);
    assert.equal(ready.status, 200);
    const body = JSON.parse(ready.body.toString('utf8')) as { status: string; store: string; config: string; upstreams: Record<string, { state: string }> };
    assert.equal(body.status, 'ready');
    assert.equal(body.config, 'loaded');
    assert.equal(body.upstreams['docker.io']?.state, 'reachable');
    assert.equal(body.upstreams['down.test']?.state, 'unreachable');

    const restore = await makeUnwritable(join(mirror.dataDir, 'tmp'));
    try {
      const down = await call(`${mirror.url}/readyz`);
      assert.equal(down.status, 503);
      assert.deepEqual(
        (({ status, store }) => ({ status, store }))(JSON.parse(down.body.toString('utf8')) as { status: string; store: string }),
        { status: 'not-ready', store: 'unwritable' },
      );
      assert.equal((await call(`${mirror.url}/healthz`)).status, 200, 'still alive');
    } finally {
      await restore();
    }
    assert.equal((await call(`${mirror.url}/readyz`)).status, 200);
  });
});
