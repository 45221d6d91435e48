/** Config of TLS, client auth, metrics listener and upstream access rules. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { renderEffective } from '../../src/config/render.js';
import { mustFail, mustLoad, tempDir, writeFile } from './helpers.js';

const TOKEN = 'tok-5e6f7a8b9c';

describe('security options', () => {
  it('are off by default', () => {
    const config = mustLoad({});
    assert.equal(config.tls, undefined);
    assert.equal(config.auth, undefined);
    assert.deepEqual(config.metrics, { enabled: true, requireAuth: false });
    assert.equal(config.upstreams[0]?.access, undefined);
  });

  it('load tls, auth, metrics.listen and access, relative to cwd, and render tokens masked', () => {
    const { dir, cleanup } = tempDir();
    try {
      for (const f of ['cert.pem', 'key.pem', 'htpasswd']) writeFile(dir, f, 'x\n');
      writeFile(dir, 'ci-token', `${TOKEN}\n`);
      const yaml = [
        'tls: { cert: cert.pem, key: key.pem, watch: false }',
        'metrics: { listen: "127.0.0.1:9102", requireAuth: true }',
        'auth:',
        '  htpasswd: htpasswd',
        '  tokens:',
        '    - { name: ci, tokenFile: ci-token }',
        '    - { name: robot, tokenEnv: ROBOT_TOKEN }',
        'upstreams:',
        '  docker.io: { url: https://registry-1.docker.io, access: { anonymous: true } }',
        '  private.test: { url: https://private.test, credentials: { username: u, password: p }, access: { allow: [alice, ci] } }',
      ].join('\n');
      const config = mustLoad({ file: writeFile(dir, 'berth.yaml', yaml), cwd: dir, env: { ROBOT_TOKEN: 'robot-secret' } });
      assert.deepEqual(config.tls, { certPath: `${dir}/cert.pem`, keyPath: `${dir}/key.pem`, watch: false });
      assert.deepEqual(config.auth, {
        realm: 'berth',
        htpasswdPath: `${dir}/htpasswd`,
        tokens: [{ name: 'ci', token: TOKEN }, { name: 'robot', token: 'robot-secret' }],
      });
      assert.deepEqual(config.metrics, { enabled: true, listen: { host: '127.0.0.1', port: 9102 }, requireAuth: true });
      assert.deepEqual(config.upstreams.map((u) => u.access), [{ anonymous: true }, { allow: ['alice', 'ci'], anonymous: false }]);
      const text = renderEffective(config);
      assert.ok(!text.includes(TOKEN) && !text.includes('robot-secret'), 'tokens are masked');
      const shape = parse(text);
      assert.deepEqual(shape.auth.tokens, [{ name: 'ci', token: '***' }, { name: 'robot', token: '***' }]);
      assert.equal(shape.metrics.listen, '127.0.0.1:9102');
      assert.deepEqual(shape.upstreams['private.test'].access, { allow: ['alice', 'ci'], anonymous: false });
    } finally {
      cleanup();
    }
  });

  it('reject inconsistent or unreadable settings without echoing secrets', () => {
    const { dir, cleanup } = tempDir();
    try {
      const cases: Array<[string, string]> = [
        ['tls: { cert: missing.pem, key: missing.key }', `tls.cert: cannot read file "${dir}/missing.pem" (ENOENT)`],
        ['auth: {}', 'auth: client auth needs an htpasswd file or at least one token (remove the auth block to turn it off)'],
        [`auth: { tokens: [{ name: a, token: ${TOKEN} }, { name: a, token: other }] }`, 'auth.tokens[1].name: "a" is used by another token'],
        [`auth: { tokens: [{ name: a, token: ${TOKEN} }, { name: b, token: ${TOKEN} }] }`, 'auth.tokens[1]: the same token is given to two names'],
        [`auth: { tokens: [{ name: a, token: ${TOKEN}, tokenEnv: X }] }`, 'auth.tokens[0]: set exactly one of token, tokenEnv, tokenFile'],
        ['auth: { tokens: [{ name: "a b", token: x }] }', 'auth.tokens[0].name: expected a name of letters, digits and . _ @ - (no spaces or colons)'],
        ['upstreams: { docker.io: { url: "https://r", access: { allow: [alice] } } }', 'upstreams.docker.io.access.allow: needs client authentication (an auth block); without it anyone may pull'],
        [
          `auth: { tokens: [{ name: a, token: ${TOKEN} }] }\nupstreams: { docker.io: { url: "https://r", credentials: { token: t }, access: { anonymous: true } } }`,
          'upstreams.docker.io.access.anonymous: an upstream with credentials cannot be opened to anonymous clients',
        ],
        ['upstreams: { docker.io: { url: "https://r", access: { allow: [a], anonymous: true } } }', 'upstreams.docker.io.access.allow: an allow list contradicts anonymous: true'],
      ];
      for (const [yaml, expected] of cases) {
        const errors = mustFail({ file: writeFile(dir, 'berth.yaml', yaml), cwd: dir });
        assert.ok(errors.includes(expected), `${yaml}\n→ ${errors.join('\n')}`);
        assert.ok(errors.every((e) => !e.includes(TOKEN)), 'no secret in errors');
      }
    } finally {
      cleanup();
    }
  });
});
