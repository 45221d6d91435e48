/**
 * Serving a committed blob reuses pooled read buffers: many sequential downloads create no more
 * buffers than one client holds at once, a slow client holds at most two, an aborted one gives
 * its buffers back, and any other consumer gets bytes it may keep.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pipeline } from 'node:stream/promises';
import { after, before, describe, test } from 'node:test';
import { Agent, request } from 'undici';
import { parseDigest, type Digest } from '../../src/oci/digest.js';
import { FsBlobStore } from '../../src/store/fs-blob-store.js';
import { blobPath } from '../../src/store/paths.js';
import { makeTempDir, type TempDir } from '../support/tempdir.js';

const MiB = 1024 * 1024;
const SIZE = 9 * MiB + 123;

let tmp: TempDir;
let store: FsBlobStore;
let digest: Digest;
let bytes: Buffer;
let server: Server;
let url: string;
const agent = new Agent({ connections: 4 });

before(async () => {
  tmp = await makeTempDir('file-body');
  store = new FsBlobStore(tmp.path, false);
  await store.init();
  bytes = randomBytes(SIZE);
  digest = parseDigest(`sha256:${createHash('sha256').update(bytes).digest('hex')}`)!;
  await store.put(digest, bytes);
  // Served the way koa serves a stream body: pipeline(body, res).
  server = createServer((req, res) => {
    const m = /^\/(\d+)-(\d+)$/.exec(req.url ?? '');
    const range = m ? { start: Number(m[1]), end: Number(m[2]) } : undefined;
    void store.open(digest, range).then((body) => {
      res.setHeader('content-length', String(range ? range.end - range.start + 1 : SIZE));
      return pipeline(body!, res);
    }).catch(() => undefined);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(async () => {
  await agent.close();
  server.close();
  await tmp.close();
});

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

async function download(path = '/'): Promise<Buffer> {
  const res = await request(`${url}${path}`, { dispatcher: agent });
  const parts: Buffer[] = [];
  for await (const c of res.body) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

describe('FileBody', () => {
  test('30 sequential downloads: every byte right, and no more pooled buffers than one client holds', async () => {
    for (let i = 0; i < 30; i++) assert.equal(sha(await download()), digest.hex);
    // At least one: the response path used the pool; at most two: every later download reused them.
    assert.ok(store.readPool.created >= 1 && store.readPool.created <= 2, `created ${store.readPool.created} buffers`);
    assert.equal(store.readPool.lentCount, 0);
  });

  test('a range is served exactly', async () => {
    assert.deepEqual(await download('/1000-3145727'), bytes.subarray(1000, 3145728));
  });

  test('a client that stops reading holds at most two buffers; one that leaves gives them back', async () => {
    const res = await request(url, { dispatcher: agent, highWaterMark: 1024 });
    const it = res.body[Symbol.asyncIterator]();
    await it.next();
    // Both writes the body may have in flight are blocked by the unread socket.
    for (let i = 0; i < 50 && store.readPool.lentCount < 2; i++) await new Promise((r) => setImmediate(r));
    assert.ok(store.readPool.lentCount <= 2, `lent ${store.readPool.lentCount}`);
    res.body.destroy();
    const closed = await new Promise<boolean>((resolve) => {
      const check = (n: number): void => {
        if (store.readPool.lentCount === 0) resolve(true);
        else if (n === 0) resolve(false);
        else setTimeout(() => check(n - 1), 20);
      };
      check(250);
    });
    assert.ok(closed, `lent ${store.readPool.lentCount} after the client left`);
    assert.equal(sha(await download()), digest.hex);
  });

  test('a consumer other than a response reads bytes of its own, outside the pool', async () => {
    const created = store.readPool.created;
    const body = (await store.open(digest))!;
    const kept: Buffer[] = [];
    for await (const c of body) kept.push(c as Buffer);
    assert.equal(sha(Buffer.concat(kept)), digest.hex);
    assert.equal(store.readPool.created, created);
  });

  test('the committed file shrinking under a reader breaks the body instead of ending it', async () => {
    const body = (await store.open(digest))!;
    await writeFile(blobPath(store.layout, digest), bytes.subarray(0, MiB));
    await assert.rejects(async () => {
      for await (const _ of body) void _;
    });
  });
});
