/** Issue 4: many registries behind one endpoint; upstream auth; rate limits; no open proxy. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startRegistry, type Registry } from '../support/registry.js';
import { makeImageSpec, pushImage, type ImageFixture } from '../support/images.js';
import { pushManifest } from '../support/push.js';
import { RegistryClient } from '../support/registry-client.js';
import { rateLimitFault, startFaultProxy, type FaultProxy } from '../support/proxy.js';
import { startTokenServer, type TokenServer } from '../support/token-server.js';
import { digestOfDir, skopeoCopy } from '../support/skopeo.js';
import { makeTempDir, type TempDir } from '../support/tempdir.js';
import { ALL_ACCEPT, call, errorCode, metricValue, startMirror, type Mirror } from './harness.js';

const ADMIN = { username: 'admin', password: 'admin-secret' };
const PULLER = { username: 'puller', password: 'puller-secret' };
const BASIC = { username: 'basic', password: 'basic-secret' };

describe('routing, upstream auth and rate limits', () => {
  let hub: Registry;
  let hubProxy: FaultProxy;
  let tokens: TokenServer;
  let ghcr: Registry;
  let ghcrProxy: FaultProxy;
  let cdn: Registry;
  let cdnProxy: FaultProxy;
  let basic: Registry;
  let basicProxy: FaultProxy;
  let trap: Server;
  let trapConnections = 0;
  let mirror: Mirror;
  let tmp: TempDir;
  let hubImage: ImageFixture;
  let ghcrImage: ImageFixture;
  let basicImage: ImageFixture;
  let redirectImage: ImageFixture;

  before(async () => {
    tmp = await makeTempDir('routing');
    hub = await startRegistry();
    tokens = await startTokenServer({ service: 'ghcr-test', issuer: 'berth-test', users: { [ADMIN.username]: ADMIN.password }, readOnlyUsers: { [PULLER.username]: PULLER.password }, tokenTtlSeconds: 600 });
    ghcr = await startRegistry({ auth: { token: { realm: tokens.realm, service: tokens.service, issuer: tokens.issuer, rootCertBundlePath: tokens.rootCertBundlePath } } });
    cdn = await startRegistry();
    basic = await startRegistry({ auth: { htpasswd: BASIC } });
    hubImage = await pushImage(hub.url, 'test/hub', '1.0', makeImageSpec({ seed: 'r-hub', layerSizes: [20_000], mediaTypeFamily: 'docker' }));
    const spec = makeImageSpec({ seed: 'r-ghcr', layerSizes: [30_000, 40_000], mediaTypeFamily: 'oci' });
    ghcrImage = await pushImage(ghcr.url, 'org/app', '1.0', spec, ADMIN);
    const redirectSpec = makeImageSpec({ seed: 'r-redirect', layerSizes: [50_000], mediaTypeFamily: 'oci' });
    redirectImage = await pushImage(ghcr.url, 'org/app', 'redirect', redirectSpec, ADMIN);
    await pushImage(cdn.url, 'org/app', 'redirect', redirectSpec);
    await pushImage(ghcr.url, 'org/many', 'base', spec, ADMIN);
    const many = new RegistryClient(ghcr.url, ADMIN);
    for (let i = 0; i < 100; i++) await pushManifest(many, 'org/many', `v${i}`, spec.manifest);
    basicImage = await pushImage(basic.url, 'team/tool', '2.0', makeImageSpec({ seed: 'r-basic', layerSizes: [10_000], mediaTypeFamily: 'oci' }), BASIC);
    hubProxy = await startFaultProxy(hub.url);
    ghcrProxy = await startFaultProxy(ghcr.url);
    cdnProxy = await startFaultProxy(cdn.url);
    basicProxy = await startFaultProxy(basic.url);
    trap = createServer((s) => {
      trapConnections++;
      s.destroy();
    });
    await new Promise<void>((r) => trap.listen(0, '127.0.0.1', r));
    const passwordFile = join(tmp.path, 'ghcr-password');
    await writeFile(passwordFile, `${PULLER.password}\n`);
    const upstreams = [
      `  docker.io:\n    url: ${hubProxy.url}\n    retries: 0\n`,
      `  ghcr.io:\n    url: ${ghcrProxy.url}\n    retries: 0\n    credentials:\n      username: ${PULLER.username}\n      passwordFile: ${passwordFile}\n`,
      `  quay.io:\n    url: ${hubProxy.url}\n    retries: 0\n    tagTtl: 1ms\n    revalidate: first\n`,
      `  registry.example.com:5000:\n    url: ${basicProxy.url}\n    retries: 0\n    credentials:\n      username: ${BASIC.username}\n      password: ${BASIC.password}\n`,
    ].join('');
    mirror = await startMirror({ upstreams, dataDir: join(tmp.path, 'data') });
  });

  after(async () => {
    await mirror?.close();
    for (const p of [hubProxy, ghcrProxy, cdnProxy, basicProxy]) await p?.close();
    for (const r of [hub, ghcr, cdn, basic]) await r?.close();
    await tokens?.close();
    await new Promise<void>((r) => (trap ? trap.close(() => r()) : r()));
    await tmp?.close();
  });

  const host = (): string => mirror.url.replace('http://', '');
  const manifestGets = (p: FaultProxy): number => p.count('GET', /\/manifests\//);

  test('?ns= picks the registry (containerd)', async () => {
    const before = manifestGets(hubProxy);
    const r = await call(`${mirror.url}/v2/org/app/manifests/1.0?ns=ghcr.io`, { headers: { accept: ALL_ACCEPT } });
    assert.equal(r.status, 200);
    assert.deepEqual(r.body, ghcrImage.manifest);
    assert.ok(ghcrProxy.count('HEAD', /\/v2\/org\/app\/manifests\/1\.0$/) >= 1);
    assert.equal(manifestGets(hubProxy), before, 'docker.io was asked for a ghcr.io image');
    const blob = await call(`${mirror.url}/v2/org/app/blobs/${ghcrImage.layers[0]!.digest}?ns=ghcr.io`);
    assert.equal(blob.status, 200);
    assert.equal(blob.body.length, ghcrImage.layers[0]!.size);
  });

  test('a path prefix picks the registry (podman namespace mirror), pulled by skopeo', async () => {
    const out = join(tmp.path, 'prefix');
    const r = await skopeoCopy(`docker://${host()}/ghcr.io/org/app:1.0`, `dir:${out}`);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await digestOfDir(out), ghcrImage.digest);
  });

  test('names without a registry go to docker.io, by skopeo', async () => {
    const before = ghcrProxy.requests.length;
    const out = join(tmp.path, 'default');
    const r = await skopeoCopy(`docker://${host()}/${hubImage.ref}`, `dir:${out}`);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await digestOfDir(out), hubImage.digest);
    assert.ok(hubProxy.count('GET', new RegExp(`/v2/test/hub/blobs/${hubImage.layers[0]!.digest}`)) === 1);
    assert.equal(ghcrProxy.requests.length, before);
  });

  test('aliases name the same upstream (index.docker.io → docker.io)', async () => {
    const r = await call(`${mirror.url}/v2/test/hub/manifests/${hubImage.digest}?ns=index.docker.io`);
    assert.equal(r.status, 200);
    assert.deepEqual(r.body, hubImage.manifest);
  });

  test('a Basic-auth registry named host:port is reached by prefix', async () => {
    const r = await call(`${mirror.url}/v2/registry.example.com:5000/team/tool/manifests/2.0`, { headers: { accept: ALL_ACCEPT } });
    assert.equal(r.status, 200);
    assert.deepEqual(r.body, basicImage.manifest);
    const authed = basicProxy.requests.filter((q) => q.requestHeaders.authorization?.startsWith('Basic '));
    assert.ok(authed.length >= 1);
  });

  test('registries that are not configured are refused and never dialled', async () => {
    const trapHost = `127.0.0.1:${(trap.address() as { port: number }).port}`;
    const seen = [hubProxy, ghcrProxy, basicProxy].map((p) => p.requests.length);
    for (const path of [
      '/v2/x/manifests/1?ns=evil.example',
      '/v2/evil.example/x/manifests/1',
      `/v2/x/manifests/1?ns=${trapHost}`,
      `/v2/${trapHost}/x/manifests/1`,
      `/v2/${trapHost}/x/blobs/sha256:${'a'.repeat(64)}`,
    ]) {
      const r = await call(`${mirror.url}${path}`);
      assert.equal(r.status, 404, path);
      assert.equal(errorCode(r), 'NAME_UNKNOWN', path);
    }
    assert.equal(trapConnections, 0, 'berth dialled an unconfigured host');
    assert.deepEqual([hubProxy, ghcrProxy, basicProxy].map((p) => p.requests.length), seen);
  });

  test('100 tags of one repository within a token lifetime fetch one token', async () => {
    const before = tokens.tokenRequests.filter((t) => t.scope.includes('org/many')).length;
    for (let i = 0; i < 100; i++) {
      const r = await call(`${mirror.url}/v2/ghcr.io/org/many/manifests/v${i}`, { headers: { accept: ALL_ACCEPT } });
      assert.equal(r.status, 200, `v${i}`);
    }
    const fetched = tokens.tokenRequests.filter((t) => t.scope.includes('org/many'));
    assert.equal(fetched.length - before, 1);
    assert.equal(fetched.at(-1)!.account, PULLER.username);
    assert.equal(await metricValue(mirror.berth.metrics, 'berth_upstream_token_fetches_total', { upstream: 'ghcr.io', result: 'ok' }) >= 1, true);
  });

  test('a 401 in the middle of work refreshes the token once and retries', async () => {
    const warm = await call(`${mirror.url}/v2/ghcr.io/org/app/manifests/${ghcrImage.digest}`);
    assert.equal(warm.status, 200);
    const before = tokens.tokenRequests.length;
    const challenge = `Bearer realm="${tokens.realm}",service="${tokens.service}",scope="repository:org/app:pull"`;
    const layer = redirectImage.config!;
    const fault = ghcrProxy.faults.add({ method: 'HEAD', path: /\/blobs\//, status: 401, headers: { 'www-authenticate': challenge }, times: 1 });
    try {
      const r = await call(`${mirror.url}/v2/ghcr.io/org/app/blobs/${layer.digest}`, { method: 'HEAD' });
      assert.equal(r.status, 200);
      assert.equal(r.headers['content-length'], String(layer.size));
    } finally {
      fault.remove();
    }
    assert.equal(fault.hits, 1);
    assert.equal(tokens.tokenRequests.length - before, 1, 'one token refresh');
  });

  test('429: rate-limit metrics, a cached tag served, an uncached one 429 with Retry-After', async () => {
    const warm = await call(`${mirror.url}/v2/test/hub/manifests/1.0?ns=quay.io`, { headers: { accept: ALL_ACCEPT } });
    assert.equal(warm.status, 200);
    const fault = hubProxy.faults.add(rateLimitFault(/\/manifests\//, { retryAfterSec: 42 }));
    try {
      const cached = await call(`${mirror.url}/v2/test/hub/manifests/1.0?ns=quay.io`, { headers: { accept: ALL_ACCEPT } });
      assert.equal(cached.status, 200);
      assert.deepEqual(cached.body, hubImage.manifest);
      assert.equal(cached.headers['x-cache'], 'STALE');
      const uncached = await call(`${mirror.url}/v2/test/hub/manifests/2.0?ns=quay.io`, { headers: { accept: ALL_ACCEPT } });
      assert.equal(uncached.status, 429);
      assert.equal(errorCode(uncached), 'TOOMANYREQUESTS');
      assert.equal(uncached.headers['retry-after'], '42');
      assert.ok(fault.hits >= 2);
    } finally {
      fault.remove();
    }
    assert.equal(await metricValue(mirror.berth.metrics, 'berth_upstream_ratelimit_limit', { upstream: 'quay.io' }), 100);
    assert.equal(await metricValue(mirror.berth.metrics, 'berth_upstream_ratelimit_remaining', { upstream: 'quay.io' }), 0);
    assert.ok((await metricValue(mirror.berth.metrics, 'berth_stale_served_total', { upstream: 'quay.io', reason: 'ratelimited' })) >= 1);
  });

  test('a blob redirect to another host is followed without the Authorization header', async () => {
    const layer = redirectImage.layers[0]!;
    const path = `/v2/org/app/blobs/${layer.digest}`;
    const fault = ghcrProxy.faults.add({ method: 'GET', path: new RegExp(`${path}$`), status: 307, headers: { location: `${cdnProxy.url}${path}?signed=1` } });
    try {
      const r = await call(`${mirror.url}/v2/ghcr.io/org/app/blobs/${layer.digest}`);
      assert.equal(r.status, 200);
      assert.equal(r.body.length, layer.size);
    } finally {
      fault.remove();
    }
    const atRegistry = ghcrProxy.requests.filter((q) => q.method === 'GET' && q.path === path);
    assert.equal(atRegistry.length, 1);
    assert.match(atRegistry[0]!.requestHeaders.authorization ?? '', /^Bearer /, 'the registry request carried the token');
    const atCdn = cdnProxy.requests.filter((q) => q.path.startsWith(path));
    assert.equal(atCdn.length, 1);
    assert.equal(atCdn[0]!.requestHeaders.authorization, undefined, 'credentials leaked to the redirect target');
  });
});
