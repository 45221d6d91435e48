/**
 * Issue 13: one node, two worker processes on one data directory. Every guarantee holds across
 * them: one upstream GET per blob and one HEAD per tag, the size cap and pins, and a worker
 * killed mid-fill costs its own clients only, is replaced, and leaves nothing partial behind.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Agent, request } from 'undici';
import { makeImageSpec, pushImage, type ImageFixture } from '../support/images.js';
import { startFaultProxy, type FaultProxy } from '../support/proxy.js';
import { startRegistry, type Registry } from '../support/registry.js';
import { digestOfDir, skopeoCopy } from '../support/skopeo.js';
import { makeTempDir, type TempDir } from '../support/tempdir.js';
import { MiB, isStored, pullOk, storedBytes } from './cache-support.js';
import { berthCli, spawnBerth, type Daemon } from './daemon.js';
import { ALL_ACCEPT } from './harness.js';
import { waitUntil } from './resilience-support.js';

const KiB = 1024;

let registry: Registry;
let proxy: FaultProxy;
let tmp: TempDir;
const daemons: Daemon[] = [];

async function twoWorkers(name: string, yaml = ''): Promise<{ daemon: Daemon; configFile: string; dataDir: string }> {
  const dataDir = join(tmp.path, name);
  const configFile = join(tmp.path, `${name}.yaml`);
  await writeFile(
    configFile,
    `listen: 127.0.0.1:0\nstorage:\n  path: ${JSON.stringify(dataDir)}\n  fsync: false\n${yaml}` +
      `upstreams:\n  docker.io:\n    url: ${proxy.url}\n    tagTtl: 5m\n    retries: 0\n`,
  );
  const daemon = await spawnBerth(configFile, ['--workers', '2'], 2);
  daemons.push(daemon);
  return { daemon, configFile, dataDir };
}

/** One request on a connection of its own, so the cluster spreads requests over the workers. */
async function fresh(url: string, headers: Record<string, string> = {}) {
  const agent = new Agent({ connections: 1 });
  const res = await request(url, { dispatcher: agent, headers });
  return { res, worker: String(res.headers['x-berth-worker']), close: () => agent.close() };
}

/** The whole body and whether it arrived complete. */
async function drain(body: AsyncIterable<unknown>): Promise<{ complete: boolean; bytes: Buffer }> {
  const parts: Buffer[] = [];
  try {
    for await (const c of body) parts.push(c as Buffer);
    return { complete: true, bytes: Buffer.concat(parts) };
  } catch {
    return { complete: false, bytes: Buffer.concat(parts) };
  }
}

const sha256 = (b: Buffer): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;

function workerPid(d: Daemon, index: string): number {
  const rec = d.logs.filter((r) => r.msg === 'listening' && String(r.worker) === index).at(-1);
  assert.ok(rec && typeof rec.pid === 'number', `worker ${index} logged its pid`);
  return rec.pid;
}

/** A fresh image with one 2 MiB layer whose upstream body trickles (512 KiB/s), behind two workers. */
async function slowBlob(name: string) {
  const image = await pushImage(registry.url, `w/${name}`, '1.0', makeImageSpec({ seed: `workers-${name}`, layerSizes: [2 * MiB], mediaTypeFamily: 'oci' }));
  const layer = image.layers[0]!;
  const started = await twoWorkers(name);
  proxy.reset();
  const path = new RegExp(`/blobs/${layer.digest}`);
  const throttle = proxy.fault({ method: 'GET', path, throttleBytesPerSec: 512 * KiB });
  return { ...started, layer, path, throttle, url: `${started.daemon.url}/v2/${image.repo}/blobs/${layer.digest}` };
}

before(async () => {
  [registry, tmp] = await Promise.all([startRegistry(), makeTempDir('workers')]);
  proxy = await startFaultProxy(registry.url);
});

after(async () => {
  for (const d of daemons) await d.kill9();
  await proxy?.close();
  await registry?.close();
  await tmp?.close();
});

describe('two workers on one data directory', () => {
  test('16 concurrent cold skopeo pulls: every pull correct, each blob fetched once upstream', async () => {
    const image = await pushImage(registry.url, 'w/app', '1.0', makeImageSpec({ seed: 'workers-app', layerSizes: [300 * KiB, 2 * MiB, 5 * MiB], mediaTypeFamily: 'oci' }));
    const { daemon } = await twoWorkers('pulls');
    proxy.reset();
    const host = daemon.url.replace('http://', '');
    const digests = await Promise.all(
      Array.from({ length: 16 }, async (_, i) => {
        const out = join(tmp.path, `pull-${i}`);
        const r = await skopeoCopy(`docker://${host}/${image.ref}`, `dir:${out}`, { timeoutMs: 120_000 });
        assert.equal(r.code, 0, `pull ${i}: ${r.stderr}`);
        return digestOfDir(out);
      }),
    );
    for (const d of digests) assert.equal(d, image.digest);
    for (const b of image.blobs) assert.equal(proxy.count('GET', new RegExp(`/blobs/${b.digest}`)), 1, `${b.digest} fetched once`);
    assert.equal(proxy.count('GET', new RegExp(`/manifests/${image.digest}`)), 1, 'the manifest fetched once');
    await daemon.stop();
  });

  test('a client of the other worker streams the growing blob at once: bytes before the fill ends, one upstream GET', async () => {
    const { daemon, layer, path, throttle, url } = await slowBlob('follow');
    const owner = await fresh(url);
    await proxy.waitForBytes('GET', path, 64 * KiB);
    // New connections alternate between the workers: the next one or two reach the other worker.
    const clients = [owner];
    while (clients.every((c) => c.worker === owner.worker) && clients.length < 6) clients.push(await fresh(url));
    const follower = clients.find((c) => c.worker !== owner.worker);
    assert.ok(follower, 'a request reached the other worker');
    const it = follower.res.body[Symbol.asyncIterator]();
    const first = await it.next();
    assert.ok(!first.done && (first.value as Buffer).length > 0, 'the follower got bytes');
    const upstream = proxy.requests.find((r) => r.method === 'GET' && path.test(r.path));
    assert.equal(upstream?.done, false, 'the upstream body was still arriving when the follower got its first bytes');
    throttle.remove();
    const rest = await drain({ [Symbol.asyncIterator]: () => it });
    assert.equal(sha256(Buffer.concat([first.value as Buffer, rest.bytes])), layer.digest, 'the follower got the whole blob');
    for (const c of clients.filter((c) => c !== follower)) assert.equal(sha256((await drain(c.res.body)).bytes), layer.digest);
    assert.equal(proxy.count('GET', path), 1, 'one upstream GET');
    await Promise.all(clients.map((c) => c.close()));
    await daemon.stop();
  });

  test('20 concurrent requests for one uncached tag: 1 HEAD and 1 GET upstream, answered by both workers', async () => {
    const image = await pushImage(registry.url, 'w/tag', '1.0', makeImageSpec({ seed: 'workers-tag', layerSizes: [1_000], mediaTypeFamily: 'oci' }));
    const { daemon } = await twoWorkers('tags');
    proxy.reset();
    const replies = await Promise.all(
      Array.from({ length: 20 }, async () => {
        const r = await fresh(`${daemon.url}/v2/${image.repo}/manifests/1.0`, { accept: ALL_ACCEPT });
        const body = await drain(r.res.body);
        await r.close();
        return { status: r.res.statusCode, worker: r.worker, digest: sha256(body.bytes) };
      }),
    );
    for (const r of replies) {
      assert.equal(r.status, 200);
      assert.equal(r.digest, image.digest);
    }
    assert.deepEqual(new Set(replies.map((r) => r.worker)), new Set(['0', '1']), 'both workers answered');
    assert.equal(proxy.count('HEAD', /\/manifests\/1\.0$/), 1, 'one HEAD for the tag');
    assert.equal(proxy.count('GET', /\/manifests\//), 1, 'one GET for the manifest');
    await daemon.stop();
  });

  test('the size cap holds and pinned images survive eviction', async () => {
    const keep = await pushImage(registry.url, 'w/keep', '1.0', makeImageSpec({ seed: 'workers-keep', layerSizes: [6 * MiB], mediaTypeFamily: 'oci' }));
    const others: ImageFixture[] = [];
    for (let i = 0; i < 5; i++) others.push(await pushImage(registry.url, `w/other${i}`, '1.0', makeImageSpec({ seed: `workers-other-${i}`, layerSizes: [6 * MiB], mediaTypeFamily: 'oci' })));
    const { daemon, dataDir } = await twoWorkers('cap', '  maxSize: 20MiB\npins: ["w/keep:1.0"]\npinRefresh: 1h\n');
    const pinned = keep.blobs.map((b) => b.digest);
    // Worker 0 runs the pin refresh at start: the pinned image arrives without a client.
    await waitUntil('the pinned image is fetched', async () => (await Promise.all(pinned.map((d) => isStored(dataDir, d)))).every(Boolean), 30_000);
    for (const img of others) {
      await pullOk(daemon.url, img, tmp.path);
      for (const d of pinned) assert.ok(await isStored(dataDir, d), `after ${img.ref}: pinned ${d} survived`);
      assert.ok((await storedBytes(dataDir)) <= 20 * MiB, `after ${img.ref}: ${await storedBytes(dataDir)} bytes stored`);
    }
    for (const img of others.slice(0, 2)) for (const b of img.layers) assert.equal(await isStored(dataDir, b.digest), false, `${img.ref} was evicted`);
    await daemon.stop();
  });

  test('kill -9 of the filling worker: clients finish or fail cleanly, it is replaced, the next request fills again, verify is clean', async () => {
    const { daemon, configFile, dataDir, layer, path, throttle, url } = await slowBlob('crash');
    const first = await fresh(url);
    await proxy.waitForBytes('GET', path, 64 * KiB);
    const others = await Promise.all(Array.from({ length: 4 }, () => fresh(url)));
    const owner = first.worker;
    const outcomes = [first, ...others].map((c) => drain(c.res.body).then((o) => ({ ...o, worker: c.worker })));
    process.kill(workerPid(daemon, owner), 'SIGKILL');
    throttle.remove();
    for (const o of await Promise.all(outcomes)) {
      // Complete means every byte and the right ones; a client of the dead worker is cut short.
      if (o.complete) assert.equal(sha256(o.bytes), layer.digest, `a complete body from worker ${o.worker} is the blob`);
      else assert.ok(o.bytes.length < layer.size, 'a broken body is short, never whole');
    }
    await waitUntil('the worker is replaced', () => daemon.logs.filter((r) => r.msg === 'listening' && String(r.worker) === owner).length === 2, 30_000);
    const again = await fresh(url);
    const body = await drain(again.res.body);
    assert.ok(body.complete);
    assert.equal(sha256(body.bytes), layer.digest);
    assert.ok(proxy.count('GET', path) >= 2, 'the blob was fetched again after the crash');
    assert.deepEqual(await readdir(join(dataDir, 'tmp')), [], 'no temp file left by the dead worker');
    await Promise.all([first, ...others, again].map((c) => c.close()));
    await daemon.stop();
    const verify = await berthCli(['verify', '--config', configFile]);
    assert.equal(verify.code, 0, verify.stdout + verify.stderr);
  });
});
