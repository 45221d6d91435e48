/** The operator commands: `berth config check` masks secrets; `berth doctor` tells berth, cache hits and wrong addresses apart. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { makeImageSpec, pushImage, type ImageFixture } from '../support/images.js';
import { freePort } from '../support/ports.js';
import { startRegistry, type Registry } from '../support/registry.js';
import { makeTempDir, type TempDir } from '../support/tempdir.js';
import { runBerth } from './cli.js';
import { startMirror, type Mirror } from './harness.js';

const UPSTREAM_PASSWORD = 'upstream-pw-71c2';
const INLINE_TOKEN = 'client-token-9a8b';
const ENV_TOKEN = 'env-token-5d4c';

describe('operator CLI', () => {
  let registry: Registry;
  let image: ImageFixture;
  let mirror: Mirror;
  let tmp: TempDir;

  before(async () => {
    tmp = await makeTempDir('ops-cli');
    registry = await startRegistry();
    image = await pushImage(registry.url, 'tools/doctor', '1.0', makeImageSpec({ seed: 'doctor', layerSizes: [2048], mediaTypeFamily: 'docker' }));
    mirror = await startMirror({ upstreams: { 'docker.io': registry.url } });
  });

  after(async () => {
    await mirror?.close();
    await registry?.close();
    await tmp?.close();
  });

  test('config check prints the effective config with every secret masked', async () => {
    await writeFile(join(tmp.path, 'htpasswd'), '');
    const file = join(tmp.path, 'secrets.yaml');
    await writeFile(
      file,
      [
        'auth:',
        `  htpasswd: ${join(tmp.path, 'htpasswd')}`,
        '  tokens:',
        `    - { name: ci, token: ${INLINE_TOKEN} }`,
        '    - { name: robot, tokenEnv: ROBOT_TOKEN }',
        'upstreams:',
        '  private.test:',
        '    url: https://private.test',
        `    credentials: { username: mirror, password: ${UPSTREAM_PASSWORD} }`,
        '    access: { allow: [ci] }',
        'defaultUpstream: private.test',
        '',
      ].join('\n'),
    );
    const r = await runBerth(['config', 'check', file], { ROBOT_TOKEN: ENV_TOKEN });
    assert.equal(r.code, 0, r.stderr);
    for (const secret of [UPSTREAM_PASSWORD, INLINE_TOKEN, ENV_TOKEN]) assert.ok(!r.stdout.includes(secret) && !r.stderr.includes(secret), `${secret} leaked`);
    assert.match(r.stdout, /password: "\*\*\*"/);
    assert.equal(r.stdout.match(/token: "\*\*\*"/g)?.length, 2);
    assert.match(r.stdout, /username: mirror/);

    const bad = join(tmp.path, 'bad.yaml');
    await writeFile(bad, `auth:\n  tokens:\n    - { name: ci, token: ${INLINE_TOKEN}, tokenEnv: X }\n`);
    const failed = await runBerth(['config', 'check', bad]);
    assert.equal(failed.code, 2);
    assert.match(failed.stderr, /auth\.tokens\[0\]: set exactly one of token, tokenEnv, tokenFile/);
    assert.ok(!failed.stderr.includes(INLINE_TOKEN));
  });

  test('doctor: the second pull of an image is a hit', async () => {
    const r = await runBerth(['doctor', mirror.url, '--image', image.ref]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /^ok {4}GET .*\/v2\/: berth \d+\.\d+\.\d+ \(registry\/2\.0\)$/m);
    assert.match(r.stdout, /X-Cache: first pull MISS, second pull HIT/);
    assert.match(r.stdout, new RegExp(`manifest ${image.digest}`));
    assert.match(r.stdout, /^result: hit/m);
    const warm = await runBerth(['doctor', mirror.url, '--image', image.ref]);
    assert.equal(warm.code, 0);
    assert.match(warm.stdout, /X-Cache: first pull HIT, second pull HIT/);

    const missing = await runBerth(['doctor', mirror.url, '--image', 'tools/absent:1']);
    assert.equal(missing.code, 1);
    assert.match(missing.stdout, /MANIFEST_UNKNOWN/);
  });

  test('doctor: a wrong address is "not reaching berth" (nothing listening, or another registry)', async () => {
    const closed = await runBerth(['doctor', `http://127.0.0.1:${await freePort()}`, '--image', image.ref]);
    assert.equal(closed.code, 3);
    assert.match(closed.stdout, /connection refused/);
    assert.match(closed.stdout, /^result: not reaching berth/m);

    const other = await runBerth(['doctor', registry.url, '--image', image.ref]);
    assert.equal(other.code, 3);
    assert.match(other.stdout, /a registry \(registry\/2\.0\) that is not berth/);
    assert.match(other.stdout, /^result: not reaching berth/m);
  });
});
