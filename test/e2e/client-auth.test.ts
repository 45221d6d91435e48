/** Client auth: challenges, htpasswd and token clients, and per-upstream rules checked before the cache. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { makeImageSpec, pushImage, type ImageFixture } from '../support/images.js';
import { runOk } from '../support/proc.js';
import { startRegistry, type Registry } from '../support/registry.js';
import { digestOfDir, skopeoCopy } from '../support/skopeo.js';
import { makeTempDir, type TempDir } from '../support/tempdir.js';
import { runBerth } from './cli.js';
import { ALL_ACCEPT, call, errorCode, metricValue, startMirror, type Mirror } from './harness.js';

const basic = (user: string, password: string): Record<string, string> => ({ authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` });
const ALICE = basic('alice', 'alice-pw');
const BOB = basic('bob', 'bob-pw');
const CI_TOKEN = 'ci-token-3f2e1d';

describe('client auth and per-upstream access', () => {
  let publicReg: Registry;
  let privateReg: Registry;
  let shared: ImageFixture;
  let secret: ImageFixture;
  let mirror: Mirror;
  let tmp: TempDir;
  let host: string;

  before(async () => {
    tmp = await makeTempDir('client-auth');
    const upstreamCreds = { username: 'mirror', password: 'upstream-pw' };
    [publicReg, privateReg] = await Promise.all([startRegistry(), startRegistry({ auth: { htpasswd: upstreamCreds } })]);
    const sharedSpec = makeImageSpec({ seed: 'auth-shared', layerSizes: [4 * 1024, 32 * 1024], mediaTypeFamily: 'docker' });
    shared = await pushImage(publicReg.url, 'team/shared', '1.0', sharedSpec);
    await pushImage(privateReg.url, 'team/shared', '1.0', sharedSpec, upstreamCreds);
    secret = await pushImage(privateReg.url, 'team/secret', '1.0', makeImageSpec({ seed: 'auth-secret', layerSizes: [6 * 1024, 20 * 1024], mediaTypeFamily: 'oci' }), upstreamCreds);

    const lines = await Promise.all([['alice', 'alice-pw'], ['bob', 'bob-pw']].map(async ([u, p]) => (await runOk('htpasswd', ['-nbB', u!, p!])).stdout.trim()));
    const htpasswd = join(tmp.path, 'htpasswd');
    await writeFile(htpasswd, `${lines.join('\n')}\n`);
    const upstreams = [
      `  docker.io:\n    url: ${JSON.stringify(publicReg.url)}\n    retries: 0\n`,
      `  private.test:\n    url: ${JSON.stringify(privateReg.url)}\n    retries: 0\n`,
      `    credentials: { username: mirror, password: upstream-pw }\n    access: { allow: [alice] }\n`,
    ].join('');
    const extra = `auth:\n  htpasswd: ${JSON.stringify(htpasswd)}\n  tokens:\n    - { name: ci, token: ${CI_TOKEN} }\nmetrics:\n  requireAuth: true\n`;
    mirror = await startMirror({ upstreams, extra });
    host = mirror.url.replace('http://', '');
  });

  after(async () => {
    await mirror?.close();
    await Promise.all([publicReg?.close(), privateReg?.close()]);
    await tmp?.close();
  });

  const manifestUrl = (prefix: string, img: ImageFixture, ref = img.tag): string => `${mirror.url}/v2/${prefix}${img.repo}/manifests/${ref}`;
  const blobUrl = (prefix: string, img: ImageFixture, digest: string): string => `${mirror.url}/v2/${prefix}${img.repo}/blobs/${digest}`;

  test('anonymous requests get 401 with a Basic challenge; health stays open', async () => {
    for (const url of [`${mirror.url}/v2/`, manifestUrl('', shared), blobUrl('', shared, shared.blobs[0]!.digest), `${mirror.url}/v2/nowhere.test/x/manifests/1`, `${mirror.url}/metrics`]) {
      const r = await call(url, { headers: { accept: ALL_ACCEPT } });
      assert.equal(r.status, 401, url);
      assert.equal(r.headers['www-authenticate'], 'Basic realm="berth"', url);
      if (!url.endsWith('/metrics')) assert.equal(errorCode(r), 'UNAUTHORIZED', url);
    }
    assert.equal((await call(`${mirror.url}/healthz`)).status, 200);
    assert.equal((await call(`${mirror.url}/readyz`)).status, 200);
    assert.equal((await call(`${mirror.url}/metrics`, { headers: BOB })).status, 200);
    assert.equal((await call(`${mirror.url}/v2/`, { headers: basic('alice', 'wrong') })).status, 401);
    const anon = await skopeoCopy(`docker://${host}/${shared.ref}`, `dir:${join(tmp.path, 'anon')}`);
    assert.notEqual(anon.code, 0, 'an anonymous skopeo pull fails');
  });

  test('authenticated pulls work: htpasswd users with skopeo --src-creds, tokens as Bearer or Basic', async () => {
    const out = join(tmp.path, 'bob-shared');
    const r = await skopeoCopy(`docker://${host}/${shared.ref}`, `dir:${out}`, { srcCreds: 'bob:bob-pw' });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await digestOfDir(out), shared.digest);
    const bearer = await call(manifestUrl('', shared), { headers: { accept: ALL_ACCEPT, authorization: `Bearer ${CI_TOKEN}` } });
    assert.equal(bearer.status, 200);
    assert.equal((await call(`${mirror.url}/v2/`, { headers: basic('ci', CI_TOKEN) })).status, 200);
  });

  test("a private upstream's image and every blob are refused to clients its rule does not allow, even when cached", async () => {
    const out = join(tmp.path, 'alice-secret');
    const r = await skopeoCopy(`docker://${host}/private.test/${secret.ref}`, `dir:${out}`, { srcCreds: 'alice:alice-pw' });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await digestOfDir(out), secret.digest);

    const refusedTo = async (headers: Record<string, string>, status: number, code: string): Promise<void> => {
      for (const url of [manifestUrl('private.test/', secret), manifestUrl('private.test/', secret, secret.digest), ...secret.blobs.map((b) => blobUrl('private.test/', secret, b.digest))]) {
        for (const method of ['GET', 'HEAD'] as const) {
          const res = await call(url, { method, headers: { accept: ALL_ACCEPT, ...headers } });
          assert.equal(res.status, status, `${method} ${url}`);
          assert.equal(res.headers['x-cache'], undefined, 'no cache status: the cache was not consulted');
          if (method === 'GET') assert.equal(errorCode(res), code);
        }
      }
    };
    await refusedTo(BOB, 403, 'DENIED');
    await refusedTo({ authorization: `Bearer ${CI_TOKEN}` }, 403, 'DENIED');
    await refusedTo({}, 401, 'UNAUTHORIZED');
    const bob = await skopeoCopy(`docker://${host}/private.test/${secret.ref}`, `dir:${join(tmp.path, 'bob-secret')}`, { srcCreds: 'bob:bob-pw' });
    assert.notEqual(bob.code, 0);

    // The shared image's blobs are cached (bob pulled them from docker.io); through private.test
    // they are still refused to bob, and served from the cache to alice.
    for (const b of shared.blobs) {
      assert.equal((await call(blobUrl('private.test/', shared, b.digest), { headers: BOB })).status, 403);
      const ok = await call(blobUrl('private.test/', shared, b.digest), { headers: ALICE });
      assert.equal(ok.status, 200);
      assert.equal(ok.headers['x-cache'], 'HIT');
    }
    // Refusals are counted under their route, like any other answer.
    const count = (labels: Record<string, string>): Promise<number> => metricValue(mirror.berth.metrics, 'berth_http_requests_total', labels);
    assert.equal(await count({ route: 'blob', status: '403' }), 4 * secret.blobs.length + shared.blobs.length);
    assert.equal(await count({ route: 'blob', status: '401' }), 2 * secret.blobs.length + 1);
  });

  test('berth doctor asks for credentials and succeeds with them', async () => {
    const anon = await runBerth(['doctor', mirror.url]);
    assert.equal(anon.code, 1, anon.stdout);
    assert.match(anon.stdout, /asks for credentials/);
    const withCreds = await runBerth(['doctor', mirror.url, '--creds', 'bob:bob-pw', '--image', shared.ref]);
    assert.equal(withCreds.code, 0, withCreds.stdout);
    assert.match(withCreds.stdout, /result: hit/);
  });
});
