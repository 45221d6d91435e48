import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { request } from 'undici';
import { makeImageSpec, pushImage, seedAll, type Fixtures, type ImageFixture } from './images.js';
import { decodeJwtPayload, type RegistryClaims } from './jwt.js';
import { startRegistry, type Registry } from './registry.js';
import { RegistryClient, flattenHeaders } from './registry-client.js';
import { digestOfDir, skopeoCopy, skopeoInspectRaw } from './skopeo.js';
import { makeTempDir } from './tempdir.js';
import { getToken, startTokenServer } from './token-server.js';

async function assertServes(client: RegistryClient, fx: ImageFixture, ref = fx.tag): Promise<void> {
  const m = await client.getManifest(fx.repo, ref);
  assert.equal(m.status, 200, `${fx.ref} status`);
  assert.equal(m.mediaType, fx.mediaType, `${fx.ref} media type`);
  assert.equal(m.digest, fx.digest, `${fx.ref} body digest`);
  assert.equal(m.headers['docker-content-digest'], fx.digest);
  assert.equal(m.body.length, fx.size);
  assert.deepEqual(m.body, fx.manifest);
}

describe('registry + seeded fixtures', () => {
  let reg: Registry;
  let fx: Fixtures;
  before(async () => {
    reg = await startRegistry();
    fx = await seedAll(reg.url);
  });
  after(() => reg?.close());

  test('every fixture is served by tag with its digest and media type', async () => {
    const c = new RegistryClient(reg.url);
    assert.equal(fx.dockerV2.mediaType, 'application/vnd.docker.distribution.manifest.v2+json');
    assert.equal(fx.oci.mediaType, 'application/vnd.oci.image.manifest.v1+json');
    assert.equal(fx.ociIndex.mediaType, 'application/vnd.oci.image.index.v1+json');
    assert.equal(fx.dockerList.mediaType, 'application/vnd.docker.distribution.manifest.list.v2+json');
    assert.equal(fx.alpine.repo, 'library/alpine');
    for (const f of fx.all) await assertServes(c, f);
    for (const f of [fx.ociIndex, fx.dockerList]) {
      assert.deepEqual(f.children.map((ch) => ch.platform.architecture), ['amd64', 'arm64']);
      for (const ch of f.children) {
        const m = await c.getManifest(f.repo, ch.digest);
        assert.equal(m.digest, ch.digest);
        assert.equal(m.mediaType, ch.mediaType);
      }
      assert.equal(new Set(f.blobs.map((b) => b.digest)).size, f.blobs.length, 'children have distinct blobs');
    }
    for (const b of fx.dockerV2.blobs) {
      const h = await c.send('HEAD', `/v2/${fx.dockerV2.repo}/blobs/${b.digest}`, { repo: fx.dockerV2.repo });
      assert.equal(h.status, 200);
      assert.equal(Number(h.headers['content-length']), b.size);
    }
  });

  test('big image is >= 100 MiB and its layers stream back intact', async () => {
    const total = fx.big.layers.reduce((n, l) => n + l.size, 0);
    assert.ok(total >= 100 * 1024 * 1024, `big total ${total}`);
    const layer = fx.big.layers[1];
    assert.ok(layer);
    const got = await new RegistryClient(reg.url).blobDigest(fx.big.repo, layer.digest);
    assert.deepEqual(got, { status: 200, size: layer.size, digest: layer.digest });
  });

  test('specs are deterministic', () => {
    const a = makeImageSpec({ seed: 7, layerSizes: [1000, 2000], mediaTypeFamily: 'oci' });
    const b = makeImageSpec({ seed: 7, layerSizes: [1000, 2000], mediaTypeFamily: 'oci' });
    const c = makeImageSpec({ seed: 8, layerSizes: [1000, 2000], mediaTypeFamily: 'oci' });
    assert.equal(a.manifest.digest, b.manifest.digest);
    assert.notEqual(a.manifest.digest, c.manifest.digest);
  });

  test('stop() keeps data and start() restarts on the same port', async () => {
    const pid = reg.pid;
    await reg.stop();
    assert.equal(reg.pid, -1);
    await assert.rejects(request(`${reg.url}/v2/`));
    await reg.start();
    assert.notEqual(reg.pid, pid);
    await assertServes(new RegistryClient(reg.url), fx.oci);
  });

  test('proxy (pull-through) mode registry serves the upstream image', async () => {
    const mirror = await startRegistry({ proxyRemoteUrl: reg.url });
    try {
      await assertServes(new RegistryClient(mirror.url), fx.alpine);
    } finally {
      await mirror.close();
    }
  });

  test('skopeo copies test/oci:1.0 into dir: with the same digest', async () => {
    const out = await makeTempDir('skopeo-out');
    try {
      const host = reg.url.slice('http://'.length);
      const r = await skopeoCopy(`docker://${host}/${fx.oci.ref}`, `dir:${out.path}/img`);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(await digestOfDir(`${out.path}/img`), fx.oci.digest);
      const raw = await skopeoInspectRaw(`docker://${host}/${fx.ociIndex.ref}`);
      assert.equal(raw.code, 0, raw.stderr);
      assert.equal(raw.stdout, fx.ociIndex.manifest.toString('utf8'));
    } finally {
      await out.close();
    }
  });
});

describe('authenticated upstreams', () => {
  const admin = { username: 'admin', password: 's3cret' };

  test('htpasswd: anonymous gets a Basic challenge, credentials push and pull', async () => {
    const reg = await startRegistry({ auth: { htpasswd: admin } });
    try {
      const anon = await request(`${reg.url}/v2/`);
      await anon.body.dump();
      assert.equal(anon.statusCode, 401);
      assert.match(String(anon.headers['www-authenticate']), /^Basic realm=/);
      const spec = makeImageSpec({ seed: 'htpasswd', layerSizes: [1234], mediaTypeFamily: 'docker' });
      const f = await pushImage(reg.url, 'test/basic', '1', spec, admin);
      await assertServes(new RegistryClient(reg.url, admin), f);
    } finally {
      await reg.close();
    }
  });

  test('token server: push and pull with tokens, anonymous gets a Bearer challenge', async () => {
    const ts = await startTokenServer({ service: 'berth-test-registry', issuer: 'berth-test-issuer', users: { admin: admin.password } });
    const reg = await startRegistry({ auth: { token: ts } });
    try {
      const spec = makeImageSpec({ seed: 'token', layerSizes: [2048, 4096], mediaTypeFamily: 'oci' });
      const f = await pushImage(reg.url, 'test/token', '1.0', spec, admin);
      const token = await getToken(ts, 'repository:test/token:pull', admin);
      const claims = decodeJwtPayload(token) as RegistryClaims;
      assert.equal(claims.aud, ts.service);
      assert.deepEqual(claims.access, [{ type: 'repository', name: 'test/token', actions: ['pull'] }]);
      const res = await request(`${reg.url}/v2/test/token/manifests/1.0`, {
        headers: { authorization: `Bearer ${token}`, accept: f.mediaType },
      });
      const body = Buffer.from(await res.body.arrayBuffer());
      assert.equal(res.statusCode, 200);
      assert.deepEqual(body, f.manifest);

      const anon = await request(`${reg.url}/v2/test/token/manifests/1.0`);
      await anon.body.dump();
      assert.equal(anon.statusCode, 401);
      const challenge = flattenHeaders(anon.headers)['www-authenticate'] ?? '';
      assert.match(challenge, /^Bearer /);
      assert.ok(challenge.includes(`realm="${ts.realm}"`), challenge);
      assert.ok(challenge.includes(`service="${ts.service}"`), challenge);
      assert.ok(challenge.includes('scope="repository:test/token:pull"'), challenge);

      await assert.rejects(getToken(ts, 'repository:test/token:pull', { username: 'admin', password: 'wrong' }), /401/);
      await assert.rejects(getToken(ts, 'repository:test/token:pull'), /401/);
      assert.ok(ts.tokenRequests.some((r) => r.authorized && r.scope === 'repository:test/token:pull,push'));
      assert.ok(ts.tokenRequests.some((r) => !r.authorized && r.account === 'admin'));
    } finally {
      await reg.close();
      await ts.close();
    }
  });

  test('token server: anonymous pull when allowed; skopeo pulls through the token flow', async () => {
    const ts = await startTokenServer({ service: 'svc', issuer: 'iss', users: { admin: admin.password }, allowAnonymous: true });
    const reg = await startRegistry({ auth: { token: ts } });
    const out = await makeTempDir('skopeo-token');
    try {
      const f = await pushImage(reg.url, 'library/busybox', 'latest', makeImageSpec({ seed: 'bb', layerSizes: [999], mediaTypeFamily: 'docker' }), admin);
      await assertServes(new RegistryClient(reg.url), f);
      const anonPush = await getToken(ts, 'repository:library/busybox:pull,push');
      const claims = decodeJwtPayload(anonPush) as RegistryClaims;
      assert.deepEqual(claims.access[0]?.actions, ['pull']);
      const host = reg.url.slice('http://'.length);
      const r = await skopeoCopy(`docker://${host}/library/busybox:latest`, `dir:${out.path}/bb`);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(await digestOfDir(`${out.path}/bb`), f.digest);
    } finally {
      await out.close();
      await reg.close();
      await ts.close();
    }
  });
});
