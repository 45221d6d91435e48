/**
 * Issue 5: a failed fill never loses or corrupts the cache. Corrupt, short, stalled or
 * wrong-sized upstream bodies commit nothing, leave no temp file and break the client's
 * connection; the next request after the upstream recovers succeeds. `berth verify` finds
 * content corrupted on disk and moves it aside.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { open, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { startRegistry, type Registry } from '../support/registry.js';
import type { ImageFixture } from '../support/images.js';
import { startFaultProxy, type FaultProxy } from '../support/proxy.js';
import { skopeoCopy } from '../support/skopeo.js';
import { makeTempDir, type TempDir } from '../support/tempdir.js';
import { berthCli } from './daemon.js';
import { call, fetchOutcome, startMirror, type Mirror } from './harness.js';
import { blobFile, pull, pushSmall } from './resilience-support.js';


describe('resilience: integrity on failure', () => {
  let registry: Registry;
  let proxy: FaultProxy;
  let mirror: Mirror;
  let tmp: TempDir;
  const img: Record<string, ImageFixture> = {};

  before(async () => {
    registry = await startRegistry();
    for (const repo of ['corrupt', 'short', 'stall', 'size', 'disk']) img[repo] = await pushSmall(registry.url, `i/${repo}`, [3_000, 300_000]);
    proxy = await startFaultProxy(registry.url);
    tmp = await makeTempDir('res-integrity');
    const upstreams = `  docker.io:\n    url: ${proxy.url}\n    retries: 0\n    timeouts: { idle: 300ms }\n`;
    mirror = await startMirror({ upstreams, dataDir: join(tmp.path, 'data') });
  });

  after(async () => {
    await mirror?.close();
    await proxy?.close();
    await registry?.close();
    await tmp?.close();
  });

  const layerOf = (repo: string) => img[repo]!.layers[1]!;
  const blobUrl = (repo: string): string => `${mirror.url}/v2/i/${repo}/blobs/${layerOf(repo).digest}`;

  /** The fill failed cleanly: client cut short, nothing under blobs/, nothing left in tmp/. */
  async function assertNothingKept(repo: string, got: { status: number; complete: boolean; bytes: number }): Promise<void> {
    const layer = layerOf(repo);
    assert.ok(!(got.status === 200 && got.complete), `client got a complete ${got.status} of ${got.bytes} bytes`);
    assert.ok(got.bytes < layer.size, 'the last byte is never sent for a bad body');
    await assert.rejects(stat(blobFile(mirror.dataDir, layer.digest)), 'nothing committed');
    await mirror.berth.fills.idle();
    assert.deepEqual(await readdir(join(mirror.dataDir, 'tmp')), [], 'no temp file left behind');
  }

  async function assertRecovered(repo: string): Promise<void> {
    const fixed = await call(blobUrl(repo));
    assert.equal(fixed.status, 200);
    assert.equal(fixed.body.length, layerOf(repo).size);
    // The last byte goes out once verified; the cache entry appears once durable.
    await mirror.berth.fills.idle();
    await stat(blobFile(mirror.dataDir, layerOf(repo).digest));
  }

  test('corrupt bytes: the client pull fails, the store lacks the blob, the pull after the fix succeeds', async () => {
    const image = img.corrupt!;
    const layer = layerOf('corrupt');
    const fault = proxy.fault({ method: 'GET', path: new RegExp(`/blobs/${layer.digest}`), corrupt: 1_000 });
    const r = await skopeoCopy(`docker://${mirror.url.replace('http://', '')}/${image.ref}`, `dir:${join(tmp.path, 'corrupt-1')}`);
    fault.remove();
    assert.notEqual(r.code, 0, 'skopeo must not accept a corrupt layer');
    await mirror.berth.fills.idle();
    await assert.rejects(stat(blobFile(mirror.dataDir, layer.digest)));
    assert.deepEqual(await readdir(join(mirror.dataDir, 'tmp')), []);
    assert.equal(await pull(mirror.url, image.ref, join(tmp.path, 'corrupt-2')), image.digest);
    await mirror.berth.fills.idle();
    await stat(blobFile(mirror.dataDir, layer.digest));
  });

  test('a body that keeps breaking off, resumed or not, commits nothing', async () => {
    const fault = proxy.fault({ method: 'GET', path: new RegExp(`/blobs/${layerOf('short').digest}`), resetAfterBytes: 50_000 });
    const got = await fetchOutcome(blobUrl('short'));
    fault.remove();
    await assertNothingKept('short', got);
    await assertRecovered('short');
  });

  test('an upstream that stalls past the idle timeout fails the fill in bounded time', async () => {
    const fault = proxy.fault({ method: 'GET', path: new RegExp(`/blobs/${layerOf('stall').digest}`), stallAfterBytes: 50_000 });
    const started = performance.now();
    const got = await fetchOutcome(blobUrl('stall'));
    const ms = performance.now() - started;
    fault.remove();
    await assertNothingKept('stall', got);
    assert.ok(ms < 10_000, `gave up after ${Math.round(ms)} ms`);
    await assertRecovered('stall');
  });

  test('a body of the wrong size and content is refused', async () => {
    const fault = proxy.fault({ method: 'GET', path: new RegExp(`/blobs/${layerOf('size').digest}`), status: 200, body: Buffer.alloc(100_000, 7) });
    const got = await fetchOutcome(blobUrl('size'));
    fault.remove();
    await assertNothingKept('size', got);
    await assertRecovered('size');
  });

  test('berth verify moves content corrupted on disk into quarantine and reports it; the next pull refetches it', async () => {
    const image = img.disk!;
    assert.equal(await pull(mirror.url, image.ref, join(tmp.path, 'disk-1')), image.digest);
    const clean = await berthCli(['verify', '--data-dir', mirror.dataDir]);
    assert.equal(clean.code, 0, clean.stdout + clean.stderr);
    assert.match(clean.stdout, / 0 corrupt, 0 partial/);

    const layer = layerOf('disk');
    const fh = await open(blobFile(mirror.dataDir, layer.digest), 'r+');
    await fh.write(Buffer.from([0xff]), 0, 1, 12_345);
    await fh.close();
    const found = await berthCli(['verify', '--config', mirror.configFile]);
    assert.equal(found.code, 1, found.stdout + found.stderr);
    assert.match(found.stdout, / 1 corrupt, 0 partial/);
    assert.ok(found.stdout.includes(layer.digest.slice(7)), found.stdout);
    await assert.rejects(stat(blobFile(mirror.dataDir, layer.digest)), 'moved out of the store');
    const quarantined = await readdir(join(mirror.dataDir, 'quarantine'));
    assert.equal(quarantined.length, 1);
    assert.ok(quarantined[0]!.includes(layer.digest.slice(7)));

    assert.equal((await berthCli(['verify', '--data-dir', mirror.dataDir])).code, 0, 'clean after quarantine');
    assert.equal(await pull(mirror.url, image.ref, join(tmp.path, 'disk-2')), image.digest);
    await stat(blobFile(mirror.dataDir, layer.digest));
  });
});
