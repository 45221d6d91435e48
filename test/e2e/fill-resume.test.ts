/** Issue 17: a body that breaks at any byte, even before the first one reached disk, is resumed. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { request } from 'undici';
import { startRegistry, type Registry } from '../support/registry.js';
import { makeImageSpec, pushImage, type ImageFixture } from '../support/images.js';
import { startFaultProxy, type FaultProxy } from '../support/proxy.js';
import { makeTempDir, type TempDir } from '../support/tempdir.js';
import { startMirror } from './harness.js';

const MiB = 1024 * 1024;

async function digestOf(url: string): Promise<{ status: number; digest: string }> {
  const res = await request(url);
  const h = createHash('sha256');
  for await (const c of res.body) h.update(c as Buffer);
  return { status: res.statusCode, digest: `sha256:${h.digest('hex')}` };
}

describe('fill resume after an upstream reset', () => {
  let registry: Registry;
  let proxy: FaultProxy;
  let image: ImageFixture;
  let tmp: TempDir;

  before(async () => {
    registry = await startRegistry();
    image = await pushImage(registry.url, 'resume/app', '1.0', makeImageSpec({ seed: 'resume-app', layerSizes: [3 * MiB], mediaTypeFamily: 'oci' }));
    proxy = await startFaultProxy(registry.url);
    tmp = await makeTempDir('fill-resume');
  });

  after(async () => {
    await proxy?.close();
    await registry?.close();
    await tmp?.close();
  });

  // 0: headers then nothing; 1 and 16 KiB: bytes received but not yet on disk; then 50 %.
  for (const cut of [0, 1, 16 * 1024, 64 * 1024, 1.5 * MiB]) {
    test(`a reset after ${cut} bytes costs exactly one extra ranged GET and both clients get the right bytes`, async () => {
      const layer = image.layers[0]!;
      proxy.reset();
      proxy.faults.add({ method: 'GET', path: new RegExp(`/blobs/${layer.digest}`), resetAfterBytes: cut, times: 1 });
      const mirror = await startMirror({ upstreams: { 'docker.io': proxy.url }, dataDir: join(tmp.path, `data-${cut}`) });
      try {
        const url = `${mirror.url}/v2/${image.repo}/blobs/${layer.digest}`;
        const results = await Promise.all([digestOf(url), digestOf(url)]);
        for (const r of results) assert.deepEqual(r, { status: 200, digest: layer.digest });
        const gets = proxy.requests.filter((r) => r.method === 'GET' && r.path.endsWith(`/blobs/${layer.digest}`));
        assert.equal(gets.length, 2, 'one GET and one resume');
        const m = /^bytes=(\d+)-$/.exec(gets[1]!.requestHeaders.range ?? 'bytes=0-');
        assert.ok(m, `resume range "${gets[1]!.requestHeaders.range}"`);
        assert.ok(Number(m[1]) <= cut, 'resumed past the bytes received');
      } finally {
        await mirror.close();
      }
    });
  }
});
