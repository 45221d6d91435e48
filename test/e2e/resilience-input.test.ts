/**
 * Issue 5: hostile input. Oversized headers, a TLS hello on the plain port, slow-header
 * clients, bad ranges and invalid UTF-8 get quick 4xx answers or a closed socket; a seeded fuzz
 * of 10,000 malformed requests gets no 5xx but 503, crashes nothing and creates no file
 * outside the data directory.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { join, relative } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { Agent, type Dispatcher } from 'undici';
import { startRegistry, type Registry } from '../support/registry.js';
import type { ImageFixture } from '../support/images.js';
import { startFaultProxy, type FaultProxy } from '../support/proxy.js';
import { makeTempDir, type TempDir } from '../support/tempdir.js';
import { Fuzzer, sendRaw, type FuzzRequest } from './fuzz-requests.js';
import { call, errorCode, startMirror, type Mirror } from './harness.js';
import { pull, pushSmall } from './resilience-support.js';

const FUZZ_COUNT = 10_000;
const FUZZ_SEED = Number(process.env.BERTH_FUZZ_SEED ?? 0xbe27);

/** Every path below `dir`, except inside `skip`. */
async function listing(dir: string, skip: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string): Promise<void> => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (p === skip) continue;
      out.push(relative(dir, p));
      if (e.isDirectory()) await walk(p);
    }
  };
  await walk(dir);
  return out.sort();
}

/** Raw bytes over a fresh socket; resolves with everything the server sent before closing. */
function rawExchange(port: number, bytes: Buffer, timeoutMs = 5_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1');
    let got = '';
    const timer = setTimeout(() => {
      s.destroy();
      reject(new Error('no close'));
    }, timeoutMs);
    s.on('data', (d: Buffer) => (got += d.toString('latin1')));
    s.on('error', () => undefined);
    s.on('close', () => {
      clearTimeout(timer);
      resolve(got);
    });
    s.write(bytes);
  });
}

describe('resilience: hostile input', () => {
  let registry: Registry;
  let proxy: FaultProxy;
  let mirror: Mirror;
  let tmp: TempDir;
  let port: number;
  let image: ImageFixture;

  before(async () => {
    registry = await startRegistry();
    image = await pushSmall(registry.url, 'test/oci', [2_000, 20_000]);
    proxy = await startFaultProxy(registry.url);
    tmp = await makeTempDir('res-input');
    await mkdir(join(tmp.path, 'outside'));
    await writeFile(join(tmp.path, 'outside', 'sentinel'), 'do not touch');
    mirror = await startMirror({ upstreams: { 'docker.io': proxy.url }, dataDir: join(tmp.path, 'data'), extra: 'headersTimeout: 1s\n' });
    port = Number(new URL(mirror.url).port);
    // Warm a little, so that fuzzed ranges and digests also hit cached content.
    await pull(mirror.url, image.ref, join(tmp.path, 'warm'));
  });

  after(async () => {
    await mirror?.close();
    await proxy?.close();
    await registry?.close();
    await tmp?.close();
  });

  test('oversized request headers get 431, garbage gets 400', async () => {
    const big = await rawExchange(port, Buffer.from(`GET /v2/ HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`));
    assert.match(big, /^HTTP\/1\.1 431 /);
    const many = await rawExchange(port, Buffer.from(`GET /v2/ HTTP/1.1\r\nHost: x\r\n${'X-H: 1234567890\r\n'.repeat(2_000)}\r\n`));
    assert.match(many, /^HTTP\/1\.1 431 /);
    const junk = await rawExchange(port, Buffer.from('\x00\x01\x02 nonsense\r\n\r\n'));
    assert.match(junk, /^HTTP\/1\.1 400 /);
  });

  test('a TLS ClientHello on the plain port is answered and closed within a second', async () => {
    const started = performance.now();
    await new Promise<void>((resolve) => {
      const s = tlsConnect({ host: '127.0.0.1', port, rejectUnauthorized: false, servername: 'localhost' });
      s.on('error', () => undefined);
      s.on('close', () => resolve());
    });
    const ms = performance.now() - started;
    assert.ok(ms < 1_000, `closed after ${Math.round(ms)} ms`);
  });

  test('a slow-header client is cut off at headersTimeout', async () => {
    const started = performance.now();
    const s = connect(port, '127.0.0.1');
    let got = '';
    s.on('data', (d: Buffer) => (got += d.toString('latin1')));
    s.on('error', () => undefined);
    s.write('GET /v2/ HTTP/1.1\r\nHost: x\r\n');
    const drip = setInterval(() => {
      if (!s.destroyed) s.write('X-Slow: 1\r\n');
    }, 150);
    await new Promise<void>((resolve) => s.on('close', () => resolve()));
    clearInterval(drip);
    const ms = performance.now() - started;
    assert.ok(ms >= 900 && ms < 3_000, `closed after ${Math.round(ms)} ms (headersTimeout 1s)`);
    assert.ok(got === '' || /^HTTP\/1\.1 408 /.test(got), got);
  });

  test('bad ranges and invalid UTF-8 in paths are 4xx', async () => {
    const layer = image.layers[1]!;
    for (const range of ['bytes=0-1,3-4', 'bytes=99999999999-', 'bytes=-0', 'bytes=', 'bytes=1-0', 'pages=1-2', `bytes=${layer.size}-`]) {
      const r = await call(`${mirror.url}/v2/${image.repo}/blobs/${layer.digest}`, { headers: { range } });
      assert.equal(r.status, 416, range);
      assert.equal(errorCode(r), 'RANGE_INVALID');
    }
    for (const path of ['/v2/%ff%fe/manifests/latest', '/v2/test/oci/manifests/%c0%af', '/v2/%e2%82/blobs/sha256:' + 'a'.repeat(64), '/v2/test/oci/tags/list?last=%ff&n=%fe']) {
      const r = await call(`${mirror.url}${path}`);
      assert.ok(r.status >= 400 && r.status < 500, `${path} → ${r.status}`);
    }
    const raw = await rawExchange(port, Buffer.concat([Buffer.from('GET /v2/'), Buffer.from([0xff, 0xfe, 0xc3]), Buffer.from('/manifests/x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')]));
    assert.match(raw, /^HTTP\/1\.1 4\d\d /);
  });

  test(`a seeded fuzz of ${FUZZ_COUNT} malformed requests: no 5xx but 503, no crash, no file outside the data dir`, async (t) => {
    const before = await listing(tmp.path, join(tmp.path, 'data'));
    const fuzzer = new Fuzzer(FUZZ_SEED, {
      names: ['test/oci', 'library/alpine', 'alpine', 'test/missing', 'docker.io/test/oci'],
      digests: image.blobs.map((b) => b.digest).concat(image.digest),
      tags: ['1.0', 'latest', 'missing'],
    });
    const agent = new Agent({ connections: 8, keepAliveTimeout: 5_000, headersTimeout: 10_000, bodyTimeout: 10_000 });
    const statuses = new Map<number, number>();
    const bad: string[] = [];
    let next = 0;
    const describeReq = (i: number, q: FuzzRequest): string => `#${i} (seed ${FUZZ_SEED}) ${q.method} ${JSON.stringify(q.target.toString('latin1'))} ${JSON.stringify(q.headers)}`;
    const one = async (i: number, q: FuzzRequest): Promise<void> => {
      let status: number;
      if (q.clean && q.method !== 'CONNECT') {
        const headers: Record<string, string> = {};
        for (const [k, v] of q.headers) headers[k] = v;
        const res = await agent.request({ origin: mirror.url, path: q.target.toString('latin1'), method: q.method as Dispatcher.HttpMethod, headers });
        await res.body.dump({ limit: 1024 * 1024 });
        status = res.statusCode;
      } else {
        status = await sendRaw(port, q, 10_000);
      }
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
      if (status >= 500 && status !== 503) bad.push(`${status} ${describeReq(i, q)}`);
    };
    const started = performance.now();
    const worker = async (): Promise<void> => {
      while (next < FUZZ_COUNT) {
        const i = next++;
        const q = fuzzer.next();
        try {
          await one(i, q);
        } catch (err) {
          bad.push(`error ${(err as Error).message} ${describeReq(i, q)}`);
        }
      }
    };
    await Promise.all(Array.from({ length: 16 }, worker));
    await agent.close();
    const seconds = (performance.now() - started) / 1000;
    t.diagnostic(`fuzz: ${FUZZ_COUNT} requests in ${seconds.toFixed(1)} s, statuses ${JSON.stringify([...statuses].sort((a, b) => a[0] - b[0]))}`);
    assert.deepEqual(bad.slice(0, 10), [], `${bad.length} bad answers; statuses ${JSON.stringify([...statuses])}`);
    assert.ok(seconds < 60, `fuzz took ${seconds.toFixed(1)} s`);
    // The generator must reach past the parser: served content, ranges, refusals and misses.
    for (const s of [200, 206, 400, 404, 405, 416]) assert.ok(statuses.has(s), `no ${s} among ${JSON.stringify([...statuses])}`);
    assert.ok(!statuses.has(0), 'every request got an HTTP answer, even a CONNECT or a garbage line');

    assert.deepEqual(await listing(tmp.path, join(tmp.path, 'data')), before, 'files appeared outside the data dir');
    // Nothing but well-formed repository paths was ever sent upstream.
    for (const r of proxy.requests) assert.match(r.path.split('?')[0]!, /^\/v2\/(?!.*\.\.)(?!.*%)(?!.*\/\/)[\x21-\x7e]*$/, r.path);

    // Still up, still correct.
    assert.equal((await call(`${mirror.url}/healthz`)).status, 200);
    assert.equal(await pull(mirror.url, image.ref, join(tmp.path, 'after-fuzz')), image.digest);
  });
});
