import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { maskSecrets } from '../../src/config/mask.js';
import { renderEffective } from '../../src/config/render.js';
import { mustFail, mustLoad, tempDir, withYaml, writeFile } from './helpers.js';

const PASSWORD = 'pw-9f8e7d6c5b4a';
const TOKEN = 'tok-0a1b2c3d4e5f';

function upstreamWith(credentials: string): string {
  return `upstreams:\n  docker.io:\n    url: https://registry-1.docker.io\n    credentials:\n${credentials}`;
}

describe('credentials', () => {
  it('inline secrets are taken as written', () => {
    const config = withYaml(upstreamWith(`      username: bob\n      password: "${PASSWORD}"\n`), (file) => mustLoad({ file }));
    assert.deepEqual(config.upstreams[0]?.credentials, { username: 'bob', password: PASSWORD });
  });

  it('secrets come from environment variables named in the file', () => {
    const yaml = upstreamWith('      username: bob\n      passwordEnv: HUB_PASSWORD\n      tokenEnv: HUB_TOKEN\n');
    const config = withYaml(yaml, (file) => mustLoad({ file, env: { HUB_PASSWORD: PASSWORD, HUB_TOKEN: TOKEN } }));
    assert.deepEqual(config.upstreams[0]?.credentials, { username: 'bob', password: PASSWORD, token: TOKEN });
  });

  it('secrets come from files, without one trailing newline, relative to cwd', () => {
    const { dir, cleanup } = tempDir();
    try {
      writeFile(dir, 'password', `${PASSWORD}\n`);
      writeFile(dir, 'token', `${TOKEN}\r\n`);
      const file = writeFile(dir, 'berth.yaml', upstreamWith('      username: bob\n      passwordFile: password\n      tokenFile: token\n'));
      const config = mustLoad({ file, cwd: dir });
      assert.deepEqual(config.upstreams[0]?.credentials, { username: 'bob', password: PASSWORD, token: TOKEN });
    } finally {
      cleanup();
    }
  });

  it('a token alone needs no username', () => {
    const config = withYaml(upstreamWith(`      token: ${TOKEN}\n`), (file) => mustLoad({ file }));
    assert.deepEqual(config.upstreams[0]?.credentials, { token: TOKEN });
  });

  it('no credentials block means no credentials', () => {
    assert.equal(mustLoad({}).upstreams[0]?.credentials, undefined);
  });

  it('a missing secret file is an error naming the file', () => {
    const errors = withYaml(upstreamWith('      username: bob\n      passwordFile: /nonexistent/secret\n'), (file) => mustFail({ file }));
    assert.deepEqual(errors, [
      'upstreams.docker.io.credentials.passwordFile: cannot read file "/nonexistent/secret" (ENOENT)',
    ]);
  });

  it('an unset environment variable is an error naming the variable', () => {
    const errors = withYaml(upstreamWith('      tokenEnv: HUB_TOKEN\n'), (file) => mustFail({ file, env: {} }));
    assert.deepEqual(errors, ['upstreams.docker.io.credentials.tokenEnv: environment variable HUB_TOKEN is not set']);
  });

  it('two sources for one secret, or a password without username, are errors', () => {
    const errors = withYaml(upstreamWith(`      password: ${PASSWORD}\n      passwordEnv: X\n`), (file) => mustFail({ file }));
    assert.ok(errors.some((e) => e === 'upstreams.docker.io.credentials: set only one of password, passwordEnv, passwordFile'));
    assert.ok(errors.some((e) => e === 'upstreams.docker.io.credentials.username: required when a password is set'));
  });
});

describe('secrets never leak', () => {
  it('not into error messages about the credentials or anything else', () => {
    const { dir, cleanup } = tempDir();
    try {
      const multiline = writeFile(dir, 'bad-secret', `${PASSWORD}\nsecond line ${TOKEN}\n`);
      const yaml = [
        'listen: nowhere',
        'upstreams:',
        '  docker.io:',
        '    url: https://registry-1.docker.io',
        '    credentials:',
        '      username: bob',
        `      passwordFile: ${multiline}`,
        '  ghcr.io:',
        '    url: https://ghcr.io',
        '    credentials:',
        `      password: ${PASSWORD}`,
        `      passwordEnv: GHCR_PW`,
        `      tokens: ${TOKEN}`,
        '  quay.io:',
        '    url: https://quay.io',
        '    credentials:',
        '      tokenEnv: QUAY_TOKEN',
        '',
      ].join('\n');
      const env = { GHCR_PW: PASSWORD, QUAY_TOKEN: `${TOKEN}\nInjected: header` };
      const file = writeFile(dir, 'berth.yaml', yaml);
      const all = mustFail({ file, env }).join('\n');
      assert.ok(all.length > 0);
      assert.ok(!all.includes(PASSWORD), all);
      assert.ok(!all.includes(TOKEN), all);

      // Once the schema errors are fixed, the credential resolution errors must not leak either.
      const fixed = yaml.replace('listen: nowhere', 'listen: 5000').replace(/  ghcr\.io:[\s\S]*?(?=  quay\.io:)/, '');
      const resolutionErrors = mustFail({ file: writeFile(dir, 'fixed.yaml', fixed), env });
      assert.equal(resolutionErrors.length, 2, resolutionErrors.join('\n'));
      assert.match(resolutionErrors[0] ?? '', /passwordFile: file ".*bad-secret" contains a line break/);
      assert.match(resolutionErrors[1] ?? '', /tokenEnv: environment variable QUAY_TOKEN contains a line break/);
      const text = resolutionErrors.join('\n');
      assert.ok(!text.includes(PASSWORD) && !text.includes(TOKEN), text);
    } finally {
      cleanup();
    }
  });

  it('not into YAML syntax errors, which omit the source snippet', () => {
    const yaml = upstreamWith(`      username: bob\n      password: ${PASSWORD}: [\n`);
    const errors = withYaml(yaml, (file) => mustFail({ file }));
    assert.ok(errors.length > 0);
    assert.ok(errors.every((e) => /:\d+:\d+: YAML syntax error: /.test(e)), errors.join('\n'));
    assert.ok(!errors.join('\n').includes(PASSWORD));
  });

  it('not into maskSecrets output, which keeps everything else', () => {
    const yaml = upstreamWith(`      username: bob\n      password: ${PASSWORD}\n      tokenEnv: HUB_TOKEN\n`);
    const config = withYaml(yaml, (file) => mustLoad({ file, env: { HUB_TOKEN: TOKEN } }));
    const masked = maskSecrets(config);
    const json = JSON.stringify(masked);
    assert.ok(!json.includes(PASSWORD) && !json.includes(TOKEN));
    assert.deepEqual(JSON.parse(json).upstreams[0].credentials, { username: 'bob', password: '***', token: '***' });
    assert.deepEqual({ ...JSON.parse(json), upstreams: [] }, { ...JSON.parse(JSON.stringify(config)), upstreams: [] });
    assert.equal(config.upstreams[0]?.credentials?.password, PASSWORD, 'the config itself is untouched');
    assert.equal(Object.isFrozen(masked), false, 'the masked copy is a plain object');
  });

  it('not into the rendered effective config', () => {
    const yaml = upstreamWith(`      username: bob\n      password: ${PASSWORD}\n      token: ${TOKEN}\n`);
    const text = withYaml(yaml, (file) => renderEffective(mustLoad({ file })));
    assert.ok(!text.includes(PASSWORD) && !text.includes(TOKEN), text);
    assert.match(text, /password: "\*\*\*"/);
    assert.match(text, /username: bob/);
  });
});

describe('misplaced secrets', () => {
  it('a lowercase "variable name" that may be a pasted token is not echoed', () => {
    const pasted = 'ghp_abcdefABCDEF0123456789';
    const errors = withYaml(upstreamWith(`      tokenEnv: ${pasted}\n`), (file) => mustFail({ file }));
    assert.equal(errors.length, 1);
    assert.match(errors[0] ?? '', /^upstreams\.docker\.io\.credentials\.tokenEnv: the environment variable \(name not shown/);
    assert.ok(!errors[0]?.includes(pasted));
  });

  it('a value that is not a variable name at all is rejected without echo', () => {
    const errors = withYaml(upstreamWith(`      passwordEnv: "${PASSWORD}"\n      username: bob\n`), (file) => mustFail({ file }));
    assert.match(errors.join('\n'), /^upstreams\.docker\.io\.credentials\.passwordEnv: expected an environment variable name/m);
    assert.ok(!errors.join('\n').includes(PASSWORD));
  });
});
