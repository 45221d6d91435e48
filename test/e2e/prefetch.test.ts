/** `berth prefetch` and the scheduled prefetch fill the cache the way a pull would, platforms filtered. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { makeImageSpec, makeIndexSpec, pushImage, type ImageFixture } from '../support/images.js';
import type { FaultProxy } from '../support/proxy.js';
import { startRegistry, type Registry } from '../support/registry.js';
import type { TempDir } from '../support/tempdir.js';
import { MiB, isStored, pullOk } from './cache-support.js';
import { berthCli } from './daemon.js';
import { startMirror, startProxiedMirror, type Mirror, type ProxiedMirror } from './harness.js';

describe('prefetch', () => {
  let registry: Registry;
  let proxy: FaultProxy;
  let tmp: TempDir;
  let multi: ImageFixture;
  let single: ImageFixture;
  let mirror: Mirror;
  let stack: ProxiedMirror;

  before(async () => {
    registry = await startRegistry();
    multi = await pushImage(registry.url, 'pf/multi', '1.0', makeIndexSpec({
      seed: 'pf-multi',
      mediaTypeFamily: 'oci',
      platforms: [
        { platform: { os: 'linux', architecture: 'amd64' }, layerSizes: [3 * MiB, 512 * 1024] },
        { platform: { os: 'linux', architecture: 'arm64', variant: 'v8' }, layerSizes: [2 * MiB, 256 * 1024] },
      ],
    }));
    single = await pushImage(registry.url, 'pf/single', '2.0', makeImageSpec({ seed: 'pf-single', layerSizes: [1 * MiB], mediaTypeFamily: 'docker' }));
    stack = await startProxiedMirror(registry.url, 'prefetch');
    ({ proxy, tmp, mirror } = stack);
  });

  after(async () => {
    await stack?.close();
    await registry?.close();
  });

  const [amd64, arm64] = [0, 1];

  test('--platform linux/arm64 stores only that platform (plus the index and its config); a pull then needs no upstream blob', async () => {
    const r = await berthCli(['prefetch', '--url', mirror.url, '--platform', 'linux/arm64', 'pf/multi:1.0']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /\[3\/3\] sha256:[0-9a-f]{64} .* fetched/);
    assert.match(r.stdout, /1 image\(s\), 2 manifest\(s\), 3\/3 blobs \(0 already cached\)/);
    const arm = multi.children[arm64]!;
    const amd = multi.children[amd64]!;
    assert.ok(await isStored(mirror.dataDir, multi.digest), 'the index');
    assert.ok(await isStored(mirror.dataDir, arm.digest), 'the arm64 manifest');
    for (const b of arm.blobs) assert.ok(await isStored(mirror.dataDir, b.digest), `arm64 blob ${b.digest}`);
    assert.equal(await isStored(mirror.dataDir, amd.digest), false, 'no amd64 manifest');
    for (const b of amd.blobs) assert.equal(await isStored(mirror.dataDir, b.digest), false, `no amd64 blob ${b.digest}`);
    assert.equal(proxy.count('GET', /\/blobs\//), arm.blobs.length, 'one upstream GET per blob');

    const gets = proxy.count('GET', /\/blobs\//);
    await pullOk(mirror.url, multi, tmp.path, { overrideArch: 'arm64' });
    assert.equal(proxy.count('GET', /\/blobs\//), gets, 'the pull made no upstream blob GET');
  });

  test('--file reads a list; a second run finds everything cached; a missing image fails with exit 1', async () => {
    const list = join(tmp.path, 'images.txt');
    await writeFile(list, `# images for the offline site\npf/single:2.0\n\n  docker.io/pf/single:2.0   # twice, fetched once\n`);
    const first = await berthCli(['prefetch', '--url', mirror.url, '--file', list]);
    assert.equal(first.code, 0, first.stderr);
    for (const b of single.blobs) assert.ok(await isStored(mirror.dataDir, b.digest));
    const gets = proxy.count('GET', /\/blobs\//);
    const second = await berthCli(['prefetch', '--url', mirror.url, '--file', list]);
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stdout, /2\/2 blobs \(2 already cached\)/);
    assert.equal(proxy.count('GET', /\/blobs\//), gets);

    const missing = await berthCli(['prefetch', '--url', mirror.url, 'pf/none:1']);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /pf\/none:1: manifest 1: not found/);
    const usage = await berthCli(['prefetch', '--url', mirror.url, '--platform', 'arm64', 'pf/single:2.0']);
    assert.equal(usage.code, 2);
  });

  test('prefetch from the config runs at start, through the daemon\'s own fills', async () => {
    const scheduled = await startMirror({
      upstreams: { 'docker.io': proxy.url },
      dataDir: join(tmp.path, 'scheduled'),
      extra: 'prefetch:\n  images: ["pf/multi:1.0"]\n  platforms: [linux/amd64]\n  interval: 1h\n',
    });
    try {
      await scheduled.berth.schedules.idle();
      const amd = multi.children[amd64]!;
      for (const b of amd.blobs) assert.ok(await isStored(scheduled.dataDir, b.digest), `amd64 blob ${b.digest}`);
      for (const b of multi.children[arm64]!.blobs) assert.equal(await isStored(scheduled.dataDir, b.digest), false);
      const gets = proxy.count('GET', /\/blobs\//);
      await pullOk(scheduled.url, multi, tmp.path, { overrideArch: 'amd64' });
      assert.equal(proxy.count('GET', /\/blobs\//), gets);
    } finally {
      await scheduled.close();
    }
  });
});
