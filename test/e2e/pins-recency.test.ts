/** Pins survive pressure; LRU order survives a restart; gc and stats work next to a running daemon. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readdir, stat, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { makeImageSpec, makeIndexSpec, pushImage, type ImageFixture } from '../support/images.js';
import { startFaultProxy, type FaultProxy } from '../support/proxy.js';
import { startRegistry, type Registry } from '../support/registry.js';
import { makeTempDir, type TempDir } from '../support/tempdir.js';
import { MiB, isStored, pullOk, storedBytes } from './cache-support.js';
import { berthCli } from './daemon.js';
import { startMirror, writeMirrorConfig } from './harness.js';

const allDigests = (img: ImageFixture): string[] => [img.digest, ...img.children.map((c) => c.digest), ...img.blobs.map((b) => b.digest)];

describe('pins, recency across restarts, gc and stats', () => {
  let registry: Registry;
  let proxy: FaultProxy;
  let tmp: TempDir;
  let keep: ImageFixture;
  let idx: ImageFixture;
  let others: ImageFixture[];

  before(async () => {
    registry = await startRegistry();
    keep = await pushImage(registry.url, 'pin/keep', '1.0', makeImageSpec({ seed: 'pin-keep', layerSizes: [8 * MiB], mediaTypeFamily: 'docker' }));
    idx = await pushImage(registry.url, 'pin/idx', '1.0', makeIndexSpec({
      seed: 'pin-idx',
      mediaTypeFamily: 'oci',
      platforms: [
        { platform: { os: 'linux', architecture: 'amd64' }, layerSizes: [4 * MiB] },
        { platform: { os: 'linux', architecture: 'arm64', variant: 'v8' }, layerSizes: [4 * MiB] },
      ],
    }));
    others = [];
    for (let i = 0; i < 6; i++) others.push(await pushImage(registry.url, `pin/other${i}`, '1.0', makeImageSpec({ seed: `pin-other-${i}`, layerSizes: [8 * MiB], mediaTypeFamily: 'oci' })));
    proxy = await startFaultProxy(registry.url);
    tmp = await makeTempDir('pins');
  });

  after(async () => {
    await proxy?.close();
    await registry?.close();
    await tmp?.close();
  });

  test('pinned images are fetched at start and survive pressure that evicts everything else', async () => {
    const mirror = await startMirror({
      upstreams: { 'docker.io': proxy.url },
      dataDir: join(tmp.path, 'pins'),
      storage: '  maxSize: 30MiB\n',
      extra: 'pins: ["pin/keep:1.0", "docker.io/pin/idx:*"]\npinRefresh: 1h\n',
    });
    try {
      await mirror.berth.schedules.idle();
      const pinned = [...allDigests(keep), ...allDigests(idx)];
      for (const d of pinned) assert.ok(await isStored(mirror.dataDir, d), `pinned ${d} was fetched at start`);
      for (const [i, img] of others.entries()) {
        await pullOk(mirror.url, img, tmp.path);
        await mirror.berth.fills.idle();
        await mirror.berth.cache.settled();
        for (const d of pinned) assert.ok(await isStored(mirror.dataDir, d), `after pull ${i}: pinned ${d} survived`);
        assert.ok((await storedBytes(mirror.dataDir)) <= 30 * MiB);
      }
      for (const img of others.slice(0, -1)) for (const b of img.layers) assert.equal(await isStored(mirror.dataDir, b.digest), false, `${img.ref} was evicted`);
      const gets = proxy.count('GET', /\/blobs\//);
      await pullOk(mirror.url, keep, tmp.path);
      await pullOk(mirror.url, idx, tmp.path, { all: true });
      assert.equal(proxy.count('GET', /\/blobs\//), gets, 'pinned images come from the cache');
    } finally {
      await mirror.close();
    }
  });

  test('after a restart, eviction still removes the least recently used image first', async () => {
    const dataDir = join(tmp.path, 'restart');
    const [a, b, c, d] = others as [ImageFixture, ImageFixture, ImageFixture, ImageFixture];
    const opts = { upstreams: { 'docker.io': proxy.url }, dataDir, storage: '  maxSize: 30MiB\n' };
    const first = await startMirror(opts);
    for (const img of [a, b, c, a]) await pullOk(first.url, img, tmp.path);
    await first.stop();
    // File times now say nothing about use: only the recency record knows that `a` came back.
    const when = new Date();
    const walk = async (dir: string): Promise<void> => {
      for (const e of await readdir(dir, { withFileTypes: true })) {
        if (e.isDirectory()) await walk(join(dir, e.name));
        else await utimes(join(dir, e.name), when, when);
      }
    };
    await walk(join(dataDir, 'blobs'));
    const second = await startMirror(opts);
    try {
      await pullOk(second.url, d, tmp.path);
      await second.berth.fills.idle();
      await second.berth.cache.settled();
      for (const x of b.layers) assert.equal(await isStored(dataDir, x.digest), false, 'b, the least recently used, was evicted');
      for (const img of [a, c, d]) for (const x of img.blobs) assert.ok(await isStored(dataDir, x.digest), `${img.ref} kept`);

      // stats and gc next to the running daemon.
      const stats = await berthCli(['stats', '--config', second.configFile, '--url', second.url, '--json']);
      assert.equal(stats.code, 0, stats.stderr);
      const report = JSON.parse(stats.stdout) as { bytes: number; blobs: number; manifests: number; tags: number; topRepositories: Array<{ repository: string; bytes: number }>; daemon: { hitRatio: number | null } };
      assert.equal(report.bytes, await storedBytes(dataDir));
      assert.equal(report.manifests, 3);
      let blobs = 0;
      for (const img of [a, b, c, d]) for (const x of img.blobs) if (await isStored(dataDir, x.digest)) blobs++;
      assert.equal(report.blobs, blobs);
      assert.equal(report.tags, 4, 'the tag index still names b');
      assert.deepEqual(report.topRepositories.map((r) => r.repository).slice(0, 3).sort(), ['docker.io/pin/other0', 'docker.io/pin/other2', 'docker.io/pin/other3']);
      assert.equal(report.topRepositories.find((r) => r.repository === 'docker.io/pin/other1')?.bytes, 0);
      assert.ok(report.daemon.hitRatio !== null && report.daemon.hitRatio >= 0);
      const human = await berthCli(['stats', '--config', second.configFile, '--url', second.url]);
      assert.match(human.stdout, /hit ratio\s+\d+\.\d% \(\d+ of \d+ lookups\)/);

      const tmpDir = join(dataDir, 'tmp');
      await mkdir(tmpDir, { recursive: true });
      await writeFile(join(tmpDir, 'old-fill'), 'x');
      await writeFile(join(tmpDir, 'running-fill'), 'y');
      const old = new Date(Date.now() - 2 * 3_600_000);
      await utimes(join(tmpDir, 'old-fill'), old, old);
      const orphanDir = join(dataDir, 'meta', 'sha256', 'ff');
      await mkdir(orphanDir, { recursive: true });
      await writeFile(join(orphanDir, 'f'.repeat(64)), 'application/vnd.oci.image.manifest.v1+json');
      const small = await writeMirrorConfig(tmp.path, dataDir, { upstreams: { 'docker.io': proxy.url }, storage: '  maxSize: 10MiB\n' });
      const gc = await berthCli(['gc', '--config', small, '--json']);
      assert.equal(gc.code, 0, gc.stderr);
      const g = JSON.parse(gc.stdout) as { tempFiles: number; orphanMeta: number; evicted: number; bytesAfter: number };
      assert.equal(g.tempFiles, 1);
      assert.equal(g.orphanMeta, 1);
      assert.ok(g.evicted > 0);
      assert.ok(g.bytesAfter <= 10 * MiB && (await storedBytes(dataDir)) <= 10 * MiB);
      assert.ok(await stat(join(tmpDir, 'running-fill')), 'a fresh temp file is left alone');
      for (const x of d.blobs) assert.ok(await isStored(dataDir, x.digest), 'gc kept the most recently used image');
      // The daemon serves on: what gc removed is filled again.
      await pullOk(second.url, a, tmp.path);
    } finally {
      await second.close();
    }
  });
});
