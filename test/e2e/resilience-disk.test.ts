/**
 * Issue 5: a full or read-only data directory never stops berth from answering. Content is
 * passed through from upstream uncached (and counted); a write that fails half-way leaves no
 * temp file; caching resumes when space returns. The data dir is a 2 MiB tmpfs (a loop-mounted
 * ext4 image where tmpfs is not allowed), so "full" is a real ENOSPC.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, open, readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { request } from 'undici';
import { startRegistry, type Registry } from '../support/registry.js';
import type { ImageFixture } from '../support/images.js';
import { run } from '../support/proc.js';
import { startFaultProxy, type FaultProxy } from '../support/proxy.js';
import { makeTempDir, type TempDir } from '../support/tempdir.js';
import { call, metricValue, startMirror, type Mirror } from './harness.js';
import { blobFile, pull, pushSmall } from './resilience-support.js';

const KiB = 1024;
const MiB = 1024 * KiB;

/** Mounts a small filesystem at `dir`: tmpfs, else an ext4 image on a loop device. */
async function mountSmall(dir: string, image: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  if ((await run('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', dir])).code === 0) return;
  const mk = await run('sh', ['-c', `truncate -s 4M '${image}' && mkfs.ext4 -q -F -m 0 '${image}' && mount -o loop '${image}' '${dir}'`]);
  if (mk.code !== 0) throw new Error(`cannot mount a small filesystem (needs root with mount rights): ${mk.stderr}`);
}

/** Writes into `file` until the filesystem says ENOSPC, or until `limit` bytes. */
async function fill(file: string, limit = Number.MAX_SAFE_INTEGER): Promise<number> {
  const fh = await open(file, 'a');
  const chunk = Buffer.alloc(16 * KiB, 1);
  let n = 0;
  try {
    while (n < limit) {
      const { bytesWritten } = await fh.write(chunk, 0, Math.min(chunk.length, limit - n));
      n += bytesWritten;
      if (bytesWritten === 0) break;
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
  } finally {
    await fh.close();
  }
  return n;
}

async function freeBytes(dir: string): Promise<number> {
  const { statfs } = await import('node:fs/promises');
  const s = await statfs(dir);
  return s.bavail * s.bsize;
}

describe('resilience: full or read-only data directory', () => {
  let registry: Registry;
  let proxy: FaultProxy;
  let mirror: Mirror;
  let tmp: TempDir;
  let disk: string;
  let dataDir: string;
  const img: Record<string, ImageFixture> = {};

  before(async () => {
    registry = await startRegistry();
    img.huge = await pushSmall(registry.url, 'd/huge', [1_000, 3 * MiB]);
    img.small = await pushSmall(registry.url, 'd/small', [2_000, 30_000]);
    img.mid = await pushSmall(registry.url, 'd/mid', [600 * KiB]);
    img.ro = await pushSmall(registry.url, 'd/ro', [3_000, 50_000]);
    img.back = await pushSmall(registry.url, 'd/back', [300 * KiB]);
    proxy = await startFaultProxy(registry.url);
    tmp = await makeTempDir('res-disk');
    disk = join(tmp.path, 'disk');
    await mountSmall(disk, join(tmp.path, 'disk.img'));
    dataDir = join(disk, 'data');
    mirror = await startMirror({ upstreams: { 'docker.io': proxy.url }, dataDir });
  });

  after(async () => {
    await mirror?.close();
    await proxy?.close();
    await registry?.close();
    if (disk) {
      // A read-only bind left by a failed test goes first, then the small filesystem.
      if (dataDir) await run('sh', ['-c', `mountpoint -q '${dataDir}' && umount '${dataDir}'`]);
      const u = await run('umount', [disk]);
      if (u.code !== 0) await run('umount', ['-l', disk]);
    }
    await tmp?.close();
  });

  const writeErrors = (): Promise<number> => metricValue(mirror.berth.metrics, 'berth_storage_write_errors_total');
  const tmpFiles = async (): Promise<string[]> => readdir(join(dataDir, 'tmp'));
  const healthy = async (): Promise<void> => assert.equal((await call(`${mirror.url}/healthz`)).status, 200);
  const blobUrl = (image: ImageFixture, i: number): string => `${mirror.url}/v2/${image.repo}/blobs/${image.layers[i]!.digest}`;

  test('a blob larger than the free space is passed through from upstream, whole or by range', async () => {
    const errors = await writeErrors();
    const image = img.huge!;
    assert.equal(await pull(mirror.url, image.ref, join(tmp.path, 'huge')), image.digest);
    const layer = image.layers[1]!;
    await assert.rejects(stat(blobFile(dataDir, layer.digest)), 'not cached: it cannot fit');
    await stat(blobFile(dataDir, image.layers[0]!.digest));
    assert.ok((await writeErrors()) > errors, 'the skipped write is counted');

    const part = await call(blobUrl(image, 1), { headers: { range: 'bytes=1000000-1000099' } });
    assert.equal(part.status, 206);
    assert.equal(part.headers['content-range'], `bytes 1000000-1000099/${layer.size}`);
    const whole = await call(blobUrl(image, 1));
    assert.equal(whole.status, 200);
    assert.equal(part.body.toString('hex'), whole.body.subarray(1_000_000, 1_000_100).toString('hex'));
    assert.equal(`sha256:${createHash('sha256').update(whole.body).digest('hex')}`, layer.digest);
    assert.deepEqual(await tmpFiles(), []);
    await healthy();
  });

  test('a full disk: pulls still succeed uncached, nothing half-written is left, the daemon stays up', async () => {
    await fill(join(disk, 'filler-1'));
    const errors = await writeErrors();
    const image = img.small!;
    assert.equal(await pull(mirror.url, image.ref, join(tmp.path, 'small-full')), image.digest);
    for (const b of image.blobs) await assert.rejects(stat(blobFile(dataDir, b.digest)), `${b.digest} written to a full disk`);
    assert.ok((await writeErrors()) >= errors + image.blobs.length, 'every skipped write is counted');
    assert.deepEqual(await tmpFiles(), []);
    await healthy();

    // Passed through, a corrupt body is still never finished as if whole.
    const layer = image.layers[1]!;
    const corrupt = proxy.fault({ method: 'GET', path: new RegExp(`/blobs/${layer.digest}`), corrupt: 100 });
    let bytes = 0;
    let complete = true;
    try {
      const res = await request(blobUrl(image, 1));
      for await (const chunk of res.body) bytes += (chunk as Buffer).length;
    } catch {
      complete = false;
    }
    corrupt.remove();
    assert.ok(!complete && bytes < layer.size, `a corrupt pass-through ended ${complete ? 'complete' : 'broken'} after ${bytes} bytes`);
    await rm(join(disk, 'filler-1'));
  });

  test('the disk filling up during a fill fails that fill cleanly; the next request is passed through', async () => {
    const image = img.mid!;
    const layer = image.layers[0]!;
    // Room for the blob when the fill starts, gone half-way through it.
    await fill(join(disk, 'filler-2'), Math.max(0, (await freeBytes(disk)) - 1200 * KiB));
    const throttle = proxy.fault({ method: 'GET', path: new RegExp(`/blobs/${layer.digest}`), throttleBytesPerSec: 400 * KiB, times: 1 });
    const errors = await writeErrors();
    const res = await request(blobUrl(image, 0));
    assert.equal(res.statusCode, 200);
    assert.equal(res.headers['x-cache'], 'MISS', 'the fill started: there was room');
    let got = 0;
    let complete = true;
    let filled = false;
    try {
      for await (const chunk of res.body) {
        got += (chunk as Buffer).length;
        if (!filled && got >= 100 * KiB) {
          filled = true;
          await fill(join(disk, 'filler-3'));
        }
      }
    } catch {
      complete = false;
    }
    throttle.remove();
    assert.ok(!complete && got < layer.size, `the client's connection must break (${got} bytes, complete=${complete})`);
    await mirror.berth.fills.idle();
    assert.deepEqual(await tmpFiles(), [], 'the failed write left no temp file');
    await assert.rejects(stat(blobFile(dataDir, layer.digest)));
    assert.ok((await writeErrors()) > errors);

    const next = await call(blobUrl(image, 0));
    assert.equal(next.status, 200);
    assert.equal(next.body.length, layer.size);
    assert.equal(`sha256:${createHash('sha256').update(next.body).digest('hex')}`, layer.digest);
    await assert.rejects(stat(blobFile(dataDir, layer.digest)), 'passed through, not cached');
    await healthy();
    await rm(join(disk, 'filler-2'));
    await rm(join(disk, 'filler-3'));
  });

  test('a read-only data directory is passed through too, and caching resumes once it is writable', async () => {
    const image = img.ro!;
    // A read-only bind mount over the data dir: berth's open log file keeps its writable mount,
    // every new open goes through the read-only one (a plain remount,ro would be refused as busy).
    const ro = await run('sh', ['-c', `mount --bind '${dataDir}' '${dataDir}' && mount -o remount,ro,bind '${dataDir}'`]);
    assert.equal(ro.code, 0, `read-only bind mount: ${ro.stderr}`);
    try {
      const errors = await writeErrors();
      assert.equal(await pull(mirror.url, image.ref, join(tmp.path, 'ro')), image.digest);
      assert.ok((await writeErrors()) > errors);
      await healthy();
    } finally {
      assert.equal((await run('umount', [dataDir])).code, 0, 'remove the read-only bind mount');
    }
    for (const b of image.blobs) await assert.rejects(stat(blobFile(dataDir, b.digest)));
  });

  test('when space returns, content is cached again', async () => {
    const errors = await writeErrors();
    for (const image of [img.back!, img.small!, img.ro!]) {
      assert.equal(await pull(mirror.url, image.ref, join(tmp.path, `back-${image.repo.replace('/', '_')}`)), image.digest);
      for (const b of image.blobs) await stat(blobFile(dataDir, b.digest));
    }
    assert.equal((await call(blobUrl(img.back!, 0))).headers['x-cache'], 'HIT');
    assert.equal(await writeErrors(), errors, 'no write failed');
  });
});
