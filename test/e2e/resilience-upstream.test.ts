/**
 * Issue 5: berth keeps serving when the upstream fails. Retries absorb transient 5xx; tags are
 * fresh within their TTL, served stale while revalidating and when the upstream errs (up to
 * maxStale), dropped after a real 404; the breaker stops dialling a dead upstream; offline
 * never dials; a restart with the upstream down still serves the cache.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { startRegistry, type Registry } from '../support/registry.js';
import type { ImageFixture } from '../support/images.js';
import { rateLimitFault, startFaultProxy, type FaultProxy } from '../support/proxy.js';
import { makeTempDir, type TempDir } from '../support/tempdir.js';
import { call, errorCode, metricValue, startMirror, type Mirror } from './harness.js';
import { deleteManifest, getManifest, pull, pushSmall, waitUntil } from './resilience-support.js';

/** Longer than every tagTtl below (50ms): time passing is the behaviour under test. */
const PAST_TTL_MS = 80;

function upstreamsYaml(url: string, overrides: Record<string, string> = {}): string {
  const u = (name: string, body: string): string => `  ${name}:\n    url: ${url}\n${body}${overrides[name] ?? ''}`;
  return [
    u('docker.io', '    retries: 2\n'),
    u('swr.test', '    tagTtl: 50ms\n    negativeTtl: 300ms\n    retries: 0\n    breaker: { failures: 0 }\n'),
    u('first.test', '    tagTtl: 50ms\n    revalidate: first\n    retries: 0\n    breaker: { failures: 0 }\n    timeouts: { headers: 300ms }\n'),
    u('short.test', '    tagTtl: 50ms\n    maxStale: 200ms\n    revalidate: first\n    retries: 0\n    breaker: { failures: 0 }\n'),
    u('breaker.test', '    tagTtl: 50ms\n    revalidate: first\n    retries: 0\n    breaker: { failures: 3, coolDown: 700ms }\n    timeouts: { headers: 600ms }\n'),
  ].join('');
}

const manifestPath = (repo: string): RegExp => new RegExp(`^/v2/${repo}/manifests/`);

describe('resilience: upstream failures', () => {
  let registry: Registry;
  let proxy: FaultProxy;
  let mirror: Mirror;
  let tmp: TempDir;
  let dataDir: string;
  const img: Record<string, ImageFixture> = {};

  const stale = (upstream: string, reason: string): Promise<number> => metricValue(mirror.berth.metrics, 'berth_stale_served_total', { upstream, reason });
  const heads = (repo: string): number => proxy.count('HEAD', manifestPath(repo));
  const restart = async (overrides: Record<string, string> = {}, extra = ''): Promise<void> => {
    await mirror.stop();
    mirror = await startMirror({ upstreams: upstreamsYaml(proxy.url, overrides), dataDir, extra });
  };

  before(async () => {
    registry = await startRegistry();
    for (const repo of ['retry', 'after', 'fresh', 'swr', 'first', 'short', 'gone', 'gone2', 'rl', 'brk', 'down']) {
      img[repo] = await pushSmall(registry.url, `t/${repo}`);
    }
    proxy = await startFaultProxy(registry.url);
    tmp = await makeTempDir('res-upstream');
    dataDir = join(tmp.path, 'data');
    mirror = await startMirror({ upstreams: upstreamsYaml(proxy.url), dataDir });
  });

  after(async () => {
    await mirror?.close();
    await proxy?.close();
    await registry?.close();
    await tmp?.close();
  });

  test('the first two upstream GETs of each blob fail with 503: the pull succeeds with no client retry', async () => {
    const image = img.retry!;
    const faults = image.blobs.map((b) => proxy.fault({ method: 'GET', path: new RegExp(`/blobs/${b.digest}`), status: 503, times: 2 }));
    try {
      assert.equal(await pull(mirror.url, image.ref, join(tmp.path, 'retry')), image.digest);
    } finally {
      for (const f of faults) f.remove();
    }
    for (const b of image.blobs) assert.equal(proxy.count('GET', new RegExp(`/blobs/${b.digest}`)), 3, `${b.digest}: two 503s, then the blob`);
    for (const f of faults) assert.equal(f.hits, 2);
  });

  test('a 503 with Retry-After is retried after the time the upstream asked for', async () => {
    const layer = img.after!.layers[1]!;
    const fault = proxy.fault({ method: 'GET', path: new RegExp(`/blobs/${layer.digest}`), status: 503, times: 1, headers: { 'retry-after': '1' } });
    const started = performance.now();
    const r = await call(`${mirror.url}/v2/t/after/blobs/${layer.digest}`);
    const ms = performance.now() - started;
    fault.remove();
    assert.equal(r.status, 200);
    assert.equal(r.body.length, layer.size);
    assert.ok(ms >= 950, `retried after ${Math.round(ms)} ms, Retry-After said 1 s`);
  });

  test('within tagTtl a tag is answered from the cache without asking upstream', async () => {
    assert.equal((await getManifest(mirror.url, 't/fresh', '1.0')).headers['x-cache'], 'MISS');
    const r = await getManifest(mirror.url, 't/fresh', '1.0');
    assert.equal(r.headers['x-cache'], 'HIT');
    assert.equal(heads('t/fresh'), 1);
  });

  test('past tagTtl the cached tag is served at once and revalidated in the background, even when that fails', async () => {
    const name = 'swr.test/t/swr';
    assert.equal((await getManifest(mirror.url, name, '1.0')).status, 200);
    await delay(PAST_TTL_MS);
    const before = await stale('swr.test', 'revalidating');
    const seen = heads('t/swr');
    const fault = proxy.fault({ method: 'HEAD', path: manifestPath('t/swr'), status: 503 });
    try {
      const r = await getManifest(mirror.url, name, '1.0');
      assert.equal(r.status, 200);
      assert.equal(r.headers['x-cache'], 'STALE');
      assert.equal(r.headers['docker-content-digest'], img.swr!.digest);
      await proxy.waitForRequest('HEAD', manifestPath('t/swr'), seen + 1);
      // The failed revalidation keeps the entry: the next answer is stale again, not an error.
      await waitUntil('background revalidation to finish', () => proxy.requests.filter((x) => x.method === 'HEAD' && manifestPath('t/swr').test(x.path)).every((x) => x.done));
      const again = await getManifest(mirror.url, name, '1.0');
      assert.equal(again.status, 200);
      assert.equal(again.headers['x-cache'], 'STALE');
    } finally {
      fault.remove();
    }
    assert.equal((await stale('swr.test', 'revalidating')) - before, 2);
  });

  test('revalidate: first asks upstream before answering a stale tag', async () => {
    const name = 'first.test/t/first';
    await getManifest(mirror.url, name, '1.0');
    await delay(PAST_TTL_MS);
    const seen = heads('t/first');
    const r = await getManifest(mirror.url, name, '1.0');
    assert.equal(r.headers['x-cache'], 'MISS');
    assert.equal(heads('t/first'), seen + 1);
  });

  test('stale-if-error: 5xx, 429, a timeout and a refused connection all serve the cached tag, counted', async () => {
    const name = 'first.test/t/first';
    await delay(PAST_TTL_MS);
    const path = manifestPath('t/first');
    const expectStale = async (why: string): Promise<number> => {
      const started = performance.now();
      const r = await getManifest(mirror.url, name, '1.0');
      assert.equal(r.status, 200, why);
      assert.equal(r.headers['x-cache'], 'STALE', why);
      assert.equal(r.headers['docker-content-digest'], img.first!.digest, why);
      return performance.now() - started;
    };
    const errors0 = await stale('first.test', 'upstream_error');
    const limited0 = await stale('first.test', 'ratelimited');

    let f = proxy.fault({ method: 'HEAD', path, status: 503 });
    await expectStale('503');
    f.remove();
    f = proxy.fault(rateLimitFault(path, { method: 'HEAD', retryAfterSec: 30 }));
    await expectStale('429');
    f.remove();
    f = proxy.fault({ method: 'HEAD', path, hang: true });
    const ms = await expectStale('headers timeout');
    f.remove();
    assert.ok(ms >= 250, `answered after the 300 ms headers timeout, not before (${Math.round(ms)} ms)`);
    await proxy.stopListening();
    try {
      await expectStale('connection refused');
    } finally {
      await proxy.startListening();
    }
    assert.equal((await stale('first.test', 'upstream_error')) - errors0, 3);
    assert.equal((await stale('first.test', 'ratelimited')) - limited0, 1);
  });

  test('past maxStale an upstream error is an error, not a stale answer', async () => {
    const name = 'short.test/t/short';
    assert.equal((await getManifest(mirror.url, name, '1.0')).status, 200);
    await delay(300);
    const f = proxy.fault({ method: 'HEAD', path: manifestPath('t/short'), status: 503 });
    const r = await getManifest(mirror.url, name, '1.0');
    f.remove();
    assert.equal(r.status, 503);
    assert.equal(errorCode(r), 'UNAVAILABLE');
  });

  test('a tag deleted upstream stops being served after revalidation, and 404s are cached briefly', async () => {
    assert.equal((await getManifest(mirror.url, 'swr.test/t/gone', '1.0')).status, 200);
    assert.equal((await getManifest(mirror.url, 'first.test/t/gone2', '1.0')).status, 200);
    await deleteManifest(registry.url, 't/gone', img.gone!.digest);
    await deleteManifest(registry.url, 't/gone2', img.gone2!.digest);
    await delay(PAST_TTL_MS);

    // revalidate: first: the 404 is the answer.
    const first = await getManifest(mirror.url, 'first.test/t/gone2', '1.0');
    assert.equal(first.status, 404);
    assert.equal(errorCode(first), 'MANIFEST_UNKNOWN');

    // background: one last stale answer while the HEAD learns of the 404, then 404 for good.
    const r = await getManifest(mirror.url, 'swr.test/t/gone', '1.0');
    assert.equal(r.headers['x-cache'], 'STALE');
    await waitUntil('the tag to be dropped', async () => (await getManifest(mirror.url, 'swr.test/t/gone', '1.0')).status === 404);
    const seen = heads('t/gone');
    const cached404 = await getManifest(mirror.url, 'swr.test/t/gone', '1.0');
    assert.equal(cached404.status, 404);
    assert.equal(errorCode(cached404), 'MANIFEST_UNKNOWN');
    assert.equal(heads('t/gone'), seen, 'within negativeTtl the 404 comes from the negative cache');
    await delay(350);
    assert.equal((await getManifest(mirror.url, 'swr.test/t/gone', '1.0')).status, 404);
    assert.equal(heads('t/gone'), seen + 1, 'after negativeTtl upstream is asked again');

    // Content stays addressable by digest: only the tag is gone.
    assert.equal((await getManifest(mirror.url, 'swr.test/t/gone', img.gone!.digest)).status, 200);
  });

  test('upstream 429 on an uncached tag is a 429 with Retry-After, not a 404', async () => {
    const f = proxy.fault(rateLimitFault(manifestPath('t/rl'), { retryAfterSec: 7 }));
    try {
      for (const name of ['t/rl', 'first.test/t/rl']) {
        const r = await getManifest(mirror.url, name, '1.0');
        assert.equal(r.status, 429, name);
        assert.equal(r.headers['retry-after'], '7', name);
        assert.equal(errorCode(r), 'TOOMANYREQUESTS', name);
      }
    } finally {
      f.remove();
    }
    assert.equal((await getManifest(mirror.url, 't/rl', '1.0')).status, 200, 'served once the limit is gone');
  });

  test('the breaker stops dialling a dead upstream, probes after its cool-down, and closes when it answers', async () => {
    const name = 'breaker.test/t/brk';
    const state = (): Promise<number> => metricValue(mirror.berth.metrics, 'berth_upstream_breaker_state', { upstream: 'breaker.test' });
    assert.equal((await getManifest(mirror.url, name, '1.0')).status, 200);
    await delay(PAST_TTL_MS);
    const timed = async (): Promise<number> => {
      const started = performance.now();
      const r = await getManifest(mirror.url, name, '1.0');
      assert.equal(r.status, 200);
      assert.equal(r.headers['x-cache'], 'STALE');
      return performance.now() - started;
    };
    const hang = proxy.fault({ method: 'HEAD', path: manifestPath('t/brk'), hang: true });
    try {
      const seen = heads('t/brk');
      for (let i = 0; i < 3; i++) assert.ok((await timed()) >= 550, 'each failure costs the headers timeout');
      assert.equal(heads('t/brk'), seen + 3);
      assert.equal(await state(), 2, 'open');
      for (let i = 0; i < 3; i++) assert.ok((await timed()) < 500, 'an open breaker answers without waiting for the timeout');
      assert.equal(heads('t/brk'), seen + 3, 'nothing dialled while open');

      await delay(750);
      await timed();
      assert.equal(heads('t/brk'), seen + 4, 'one probe after the cool-down');
      assert.equal(await state(), 2, 'the failed probe reopened it');
      assert.ok((await timed()) < 500);
      assert.equal(heads('t/brk'), seen + 4);
    } finally {
      hang.remove();
    }
    await delay(750);
    const r = await getManifest(mirror.url, name, '1.0');
    assert.equal(r.headers['x-cache'], 'MISS', 'the probe got through');
    assert.equal(await state(), 0, 'closed');
  });

  test('upstream down with a warm cache, and again after a restart: pulls by tag and digest succeed; offline never dials', async () => {
    const image = img.down!;
    const refs = (prefix: string): string[] => [`${prefix}/${image.ref}`, `${prefix}/${image.repo}@${image.digest}`];
    let n = 0;
    const pullAll = async (prefixes: string[]): Promise<void> => {
      for (const p of prefixes) for (const ref of refs(p)) assert.equal(await pull(mirror.url, ref, join(tmp.path, `down-${n++}`)), image.digest, ref);
    };
    await pullAll(['swr.test', 'first.test']);
    await delay(PAST_TTL_MS);
    await proxy.stopListening();
    try {
      await pullAll(['swr.test', 'first.test']);
      assert.ok((await stale('swr.test', 'revalidating')) >= 1);
      assert.ok((await stale('first.test', 'upstream_error')) >= 1);

      await restart();
      await pullAll(['swr.test', 'first.test']);
      assert.ok((await stale('swr.test', 'revalidating')) >= 1, 'after a restart the tag index still answers, stale');
      assert.ok((await stale('first.test', 'upstream_error')) >= 1);
    } finally {
      await proxy.startListening();
    }

    // Offline: per upstream, then globally. The proxy is up, and still sees nothing.
    await restart({ 'swr.test': '    offline: true\n' });
    let sent = proxy.requests.length;
    await pullAll(['swr.test']);
    const uncached = await getManifest(mirror.url, 'swr.test/t/rl', '1.0');
    assert.equal(uncached.status, 503);
    assert.equal(errorCode(uncached), 'UNAVAILABLE');
    assert.equal(proxy.requests.length, sent, 'an offline upstream is never dialled');

    await restart({}, 'offline: true\n');
    sent = proxy.requests.length;
    await pullAll(['first.test', 'swr.test']);
    assert.equal((await getManifest(mirror.url, 't/never', '1.0')).status, 503);
    assert.equal(proxy.requests.length, sent, 'global offline dials no upstream');
    assert.ok((await stale('first.test', 'offline')) >= 1);
  });
});
