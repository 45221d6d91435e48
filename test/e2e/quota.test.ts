/**
 * Staying under Docker Hub's pull quota: a pool of credentials spread over the manifest GETs by
 * the quota each has left, tokens per credential, no request sent into a 429, and the quota
 * floor serving cached tags without revalidating until the quota returns.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import { makeImageSpec, pushImage, type ImageFixture } from '../support/images.js';
import { startQuotaProxy, type QuotaProxy } from '../support/quota-proxy.js';
import { startRegistry, type Registry } from '../support/registry.js';
import { startTokenServer, type TokenServer } from '../support/token-server.js';
import { ALL_ACCEPT, call, errorCode, metricValue, startMirror, type Mirror } from './harness.js';
import { waitUntil } from './resilience-support.js';

const ADMIN = { username: 'admin', password: 'admin-pw-q1' };
const ALICE = { username: 'alice', password: 'alice-pw-q2' };
const BOB = { username: 'bob', password: 'bob-pw-q3' };
const CAROL = { username: 'carol', password: 'carol-pw-q4' };
const IMAGES = 12;

describe('pull quota: credential pool and quota floor', () => {
  let tokens: TokenServer;
  let registry: Registry;
  const images: ImageFixture[] = [];

  before(async () => {
    tokens = await startTokenServer({
      service: 'quota-test',
      issuer: 'berth-test',
      users: { [ADMIN.username]: ADMIN.password },
      readOnlyUsers: { [ALICE.username]: ALICE.password, [BOB.username]: BOB.password, [CAROL.username]: CAROL.password },
      tokenTtlSeconds: 600,
    });
    registry = await startRegistry({ auth: { token: { realm: tokens.realm, service: tokens.service, issuer: tokens.issuer, rootCertBundlePath: tokens.rootCertBundlePath } } });
    for (let i = 0; i < IMAGES; i++) {
      images.push(await pushImage(registry.url, 'quota/app', `v${i}`, makeImageSpec({ seed: `quota-${i}`, layerSizes: [512], mediaTypeFamily: 'oci' }), ADMIN));
    }
  });

  after(async () => {
    await registry?.close();
    await tokens?.close();
  });

  describe('two credentials of 5 pulls each', () => {
    let quota: QuotaProxy;
    let mirror: Mirror;

    before(async () => {
      quota = await startQuotaProxy(registry.url, { limit: 5, windowSec: 3600 });
      const upstreams = [
        '  docker.io:',
        `    url: ${quota.url}`,
        '    retries: 0',
        '    credentialPool:',
        `      - { name: hub-a, username: ${ALICE.username}, password: ${ALICE.password} }`,
        `      - { name: hub-b, username: ${BOB.username}, password: ${BOB.password} }`,
        '',
      ].join('\n');
      mirror = await startMirror({ upstreams });
    });

    after(async () => {
      await mirror?.close();
      await quota?.close();
    });

    test('10 distinct pulls succeed, spread over both credentials, none sent into a 429', async () => {
      for (let i = 0; i < 10; i++) {
        const r = await call(`${mirror.url}/v2/quota/app/manifests/v${i}`, { headers: { accept: ALL_ACCEPT } });
        assert.equal(r.status, 200, `pull ${i}: ${r.body.toString()}`);
        assert.deepEqual(r.body, images[i]!.manifest);
      }
      assert.equal(quota.tooMany, 0, 'no request reached a 429');
      assert.equal(quota.pulls('alice'), 5);
      assert.equal(quota.pulls('bob'), 5);
      const remaining = (credential: string): Promise<number> => metricValue(mirror.berth.metrics, 'berth_upstream_credential_ratelimit_remaining', { upstream: 'docker.io', credential });
      assert.equal(await remaining('hub-a'), 0);
      assert.equal(await remaining('hub-b'), 0);
      const text = (await call(`${mirror.url}/metrics`)).body.toString();
      assert.match(text, /berth_upstream_credential_ratelimit_remaining\{upstream="docker.io",credential="hub-a"\} 0/);
      assert.ok(!text.includes(ALICE.password) && !text.includes(BOB.password), 'no secret in /metrics');
      // Each credential fetched its own token; none was used for the other's requests.
      const accounts = new Set(tokens.tokenRequests.filter((t) => t.authorized).map((t) => t.account));
      assert.ok(accounts.has('alice') && accounts.has('bob'), [...accounts].join(','));
    });

    test('with every credential at zero, berth answers 429 itself and cached content still flows', async () => {
      const gets = quota.count('GET', /\/manifests\//);
      const r = await call(`${mirror.url}/v2/quota/app/manifests/v10`, { headers: { accept: ALL_ACCEPT } });
      assert.equal(r.status, 429);
      assert.equal(errorCode(r), 'TOOMANYREQUESTS');
      assert.ok(Number(r.headers['retry-after']) > 3000, `rested for the window: ${r.headers['retry-after']}`);
      assert.equal(quota.count('GET', /\/manifests\//), gets, 'the counted GET was never sent');
      assert.equal(quota.tooMany, 0);
      const cached = await call(`${mirror.url}/v2/quota/app/manifests/${images[3]!.digest}`, { headers: { accept: ALL_ACCEPT } });
      assert.equal(cached.status, 200);
      assert.equal(cached.headers['x-cache'], 'HIT');
      const status = JSON.parse((await call(`${mirror.url}/status.json`)).body.toString()) as {
        upstreams: Array<{ name: string; quota: { bestRemaining: number | null; credentials: Array<{ name: string; remaining: number | null; restingUntil: string | null }> } }>;
      };
      const hub = status.upstreams.find((u) => u.name === 'docker.io')!;
      assert.equal(hub.quota.bestRemaining, 0);
      assert.deepEqual(hub.quota.credentials.map((c) => [c.name, c.remaining, c.restingUntil !== null]), [['hub-a', 0, true], ['hub-b', 0, true]]);
    });
  });

  test('below the quota floor, stale tags are served from the cache without upstream requests until the quota returns', async () => {
    const windowSec = 3;
    const quota = await startQuotaProxy(registry.url, { limit: 4, windowSec });
    const upstreams = [
      '  docker.io:',
      `    url: ${quota.url}`,
      '    retries: 0',
      '    tagTtl: 200ms',
      '    quotaFloor: 3',
      `    credentials: { username: ${CAROL.username}, password: ${CAROL.password} }`,
      '',
    ].join('\n');
    const mirror = await startMirror({ upstreams });
    const m = mirror.berth.metrics;
    try {
      const pull = (i: number, method: 'GET' | 'HEAD' = 'GET') => call(`${mirror.url}/v2/quota/app/manifests/v${i}`, { method, headers: { accept: ALL_ACCEPT } });
      assert.equal((await pull(0)).status, 200);
      assert.equal((await pull(1)).status, 200);
      const lastPull = Date.now();
      assert.equal(quota.pulls('carol'), 2);
      assert.equal(await metricValue(m, 'berth_upstream_credential_ratelimit_remaining', { upstream: 'docker.io', credential: 'default' }), 2);
      assert.equal(await metricValue(m, 'berth_upstream_quota_below_floor', { upstream: 'docker.io' }), 1);

      await delay(300); // both tags are past their TTL now
      const seen = quota.requests.length;
      for (const method of ['GET', 'HEAD'] as const) {
        for (const i of [0, 1]) {
          const r = await pull(i, method);
          assert.equal(r.status, 200);
          assert.equal(r.headers['x-cache'], 'STALE', `${method} v${i}`);
          assert.equal(r.headers['docker-content-digest'], images[i]!.digest);
        }
      }
      await delay(100);
      assert.equal(quota.requests.length, seen, 'no upstream request while below the floor');
      assert.equal(await metricValue(m, 'berth_stale_served_total', { upstream: 'docker.io', reason: 'quota_floor' }), 4);

      // The window passes: the quota is back, and the next stale answer revalidates upstream.
      await delay(Math.max(0, lastPull + windowSec * 1000 + 100 - Date.now()));
      const heads = quota.count('HEAD', /\/manifests\/v0$/);
      const r = await pull(0);
      assert.equal(r.status, 200);
      assert.equal(r.headers['x-cache'], 'STALE');
      await waitUntil('the background revalidation', () => quota.count('HEAD', /\/manifests\/v0$/) > heads);
      assert.equal(await metricValue(m, 'berth_upstream_quota_below_floor', { upstream: 'docker.io' }), 0);
      assert.equal(await metricValue(m, 'berth_stale_served_total', { upstream: 'docker.io', reason: 'quota_floor' }), 4);
      assert.equal(quota.tooMany, 0);
    } finally {
      await mirror.close();
      await quota.close();
    }
  });
});
