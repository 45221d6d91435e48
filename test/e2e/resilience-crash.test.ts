/**
 * Issue 5: crash safety and graceful shutdown of the real daemon. `kill -9` during concurrent
 * cold pulls loses nothing committed and leaves nothing partial visible; a restart sweeps the
 * temp files, skips damaged tag-index lines, `berth verify` is clean and pulls succeed.
 * SIGTERM lets an in-flight download finish, then the process exits.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { appendFile, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { request } from 'undici';
import { startRegistry, type Registry } from '../support/registry.js';
import type { ImageFixture } from '../support/images.js';
import { startFaultProxy, type FaultHandle, type FaultProxy } from '../support/proxy.js';
import { skopeoCopy } from '../support/skopeo.js';
import { makeTempDir, type TempDir } from '../support/tempdir.js';
import { berthCli, spawnBerth, type Daemon } from './daemon.js';
import { blobFile, getManifest, pull, pushSmall, waitUntil } from './resilience-support.js';

const IMAGES = 8;
const BIG = 1024 * 1024;

describe('resilience: crash and shutdown of the daemon', () => {
  let registry: Registry;
  let proxy: FaultProxy;
  let tmp: TempDir;
  let configFile: string;
  let dataDir: string;
  const images: ImageFixture[] = [];
  const daemons: Daemon[] = [];

  const start = async (): Promise<Daemon> => {
    const d = await spawnBerth(configFile);
    daemons.push(d);
    return d;
  };

  before(async () => {
    registry = await startRegistry();
    for (let i = 0; i < IMAGES; i++) images.push(await pushSmall(registry.url, `c/app${i}`, [2_000, BIG]));
    proxy = await startFaultProxy(registry.url);
    tmp = await makeTempDir('res-crash');
    dataDir = join(tmp.path, 'data');
    configFile = join(tmp.path, 'berth.yaml');
    await writeFile(
      configFile,
      `listen: 127.0.0.1:0\nstorage:\n  path: ${JSON.stringify(dataDir)}\n  fsync: true\nshutdownGrace: 20s\n` +
        `upstreams:\n  docker.io:\n    url: ${proxy.url}\n    retries: 0\n`,
    );
  });

  after(async () => {
    for (const d of daemons) await d.kill9();
    await proxy?.close();
    await registry?.close();
    await tmp?.close();
  });

  const throttleBig = (bytesPerSec: number): FaultHandle[] =>
    images.map((img) => proxy.fault({ method: 'GET', path: new RegExp(`/blobs/${img.layers[1]!.digest}`), throttleBytesPerSec: bytesPerSec }));

  test('kill -9 during 8 concurrent cold pulls: restart is clean, verify finds nothing, pulls succeed', async () => {
    const first = await start();
    const throttles = throttleBig(256 * 1024);
    const host = first.url.replace('http://', '');
    const pulls = images.map((img, i) => skopeoCopy(`docker://${host}/${img.ref}`, `dir:${join(tmp.path, `cold-${i}`)}`, { timeoutMs: 60_000 }));
    const flowing = Promise.all(images.map((img) => proxy.waitForBytes('GET', new RegExp(`/blobs/${img.layers[1]!.digest}`), 64 * 1024)));
    const giveUp = new Promise<never>((_, reject) => setTimeout(() => reject(new Error('the 8 fills never got going')), 30_000).unref());
    await Promise.race([flowing, giveUp]);
    await first.kill9();
    for (const r of await Promise.all(pulls)) assert.notEqual(r.code, 0, 'a pull cut by the crash fails');
    for (const t of throttles) t.remove();

    // Nothing partial is visible: every big layer was mid-fill, none may be under blobs/.
    for (const img of images) await assert.rejects(stat(blobFile(dataDir, img.layers[1]!.digest)), `${img.ref} partial layer visible`);
    assert.ok((await readdir(join(dataDir, 'tmp'))).length > 0, 'the crash left temp files (the test really interrupted fills)');
    const before = await berthCli(['verify', '--config', configFile]);
    assert.equal(before.code, 1, 'temp files of interrupted fills count as partial');
    assert.match(before.stdout, / 0 corrupt, [1-9]\d* partial/);

    // A torn append and outright garbage in the tag index.
    await appendFile(join(dataDir, 'state', 'tags.jsonl'), Buffer.concat([Buffer.from('{"k":"docker.io\\nc/app0\\n1.0'), Buffer.from([0xff, 0xfe, 0x00, 0x0a]), Buffer.from('not json\n{"k":1,"e":{}}\n')]));

    const second = await start();
    const warnings = second.logs.filter((l) => l.level === 40).map((l) => String(l.msg));
    assert.ok(warnings.includes('removed leftover temp files'), warnings.join('; '));
    const damaged = second.logs.find((l) => l.msg === 'tag index had damaged lines; skipped them');
    assert.ok(damaged && Number(damaged.damagedLines) >= 3, JSON.stringify(damaged));
    assert.deepEqual(await readdir(join(dataDir, 'tmp')), []);

    // Tags resolved before the crash still answer from the index with the upstream gone.
    await proxy.stopListening();
    try {
      const r = await getManifest(second.url, images[0]!.repo, '1.0', 'HEAD');
      assert.equal(r.status, 200);
      assert.equal(r.headers['docker-content-digest'], images[0]!.digest);
    } finally {
      await proxy.startListening();
    }

    const verified = await berthCli(['verify', '--config', configFile]);
    assert.equal(verified.code, 0, verified.stdout + verified.stderr);
    assert.match(verified.stdout, / 0 corrupt, 0 partial/);

    const digests = await Promise.all(images.map((img, i) => pull(second.url, img.ref, join(tmp.path, `warm-${i}`))));
    assert.deepEqual(digests, images.map((img) => img.digest));
    await second.stop();
    assert.equal((await second.exited).code, 0);
    const after = await berthCli(['verify', '--data-dir', dataDir]);
    assert.equal(after.code, 0, after.stdout);
    assert.match(after.stdout, new RegExp(`^checked ${IMAGES * 4} blobs`, 'm'), 'every manifest, config and layer re-hashed');
  });

  test('SIGTERM: a download in flight completes, new connections are refused, the process exits', async () => {
    const img = await pushSmall(registry.url, 'c/term', [BIG]);
    const layer = img.layers[0]!;
    const daemon = await start();
    const throttle = proxy.fault({ method: 'GET', path: new RegExp(`/blobs/${layer.digest}`), throttleBytesPerSec: 512 * 1024 });
    try {
      const res = await request(`${daemon.url}/v2/${img.repo}/blobs/${layer.digest}`);
      assert.equal(res.statusCode, 200);
      const hash = createHash('sha256');
      let bytes = 0;
      let signalled = false;
      const started = performance.now();
      for await (const chunk of res.body) {
        hash.update(chunk as Buffer);
        bytes += (chunk as Buffer).length;
        if (!signalled && bytes > 0) {
          signalled = true;
          daemon.child.kill('SIGTERM');
          await waitUntil('the listener to close', () =>
            request(`${daemon.url}/v2/`, { reset: true }).then(
              async (r) => {
                await r.body.dump();
                return false;
              },
              () => true,
            ),
          );
        }
      }
      assert.equal(bytes, layer.size);
      assert.equal(`sha256:${hash.digest('hex')}`, layer.digest);
      const exit = await daemon.exited;
      assert.equal(exit.code, 0);
      assert.ok(performance.now() - started < 10_000, 'exits once the download is done, well before shutdownGrace');
    } finally {
      throttle.remove();
    }
  });
});
