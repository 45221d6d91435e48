/** credentialPool, quotaFloor and status: parsing, secret sources, errors, masking. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { renderEffective } from '../../src/config/render.js';
import { mustFail, mustLoad, tempDir, withYaml, writeFile } from './helpers.js';

const PW1 = 'pool-pw-1a2b3c';
const PW2 = 'pool-pw-4d5e6f';

function hub(body: string): string {
  return `upstreams:\n  docker.io:\n    url: https://registry-1.docker.io\n${body}`;
}

describe('credentialPool', () => {
  it('resolves every member from inline, env and file sources, keeping names and order', () => {
    const { dir, cleanup } = tempDir();
    try {
      writeFile(dir, 'pw2', `${PW2}\n`);
      const yaml = hub(
        [
          '    quotaFloor: 20',
          '    credentialPool:',
          `      - { name: hub-1, username: alice, password: ${PW1} }`,
          '      - { name: hub-2, username: bob, passwordFile: pw2 }',
          '      - { name: robot, tokenEnv: ROBOT_TOKEN }',
          '',
        ].join('\n'),
      );
      const config = mustLoad({ file: writeFile(dir, 'berth.yaml', yaml), cwd: dir, env: { ROBOT_TOKEN: 'tok-77' } });
      const u = config.upstreams[0]!;
      assert.equal(u.quotaFloor, 20);
      assert.equal(u.credentials, undefined);
      assert.deepEqual(u.credentialPool, [
        { name: 'hub-1', username: 'alice', password: PW1 },
        { name: 'hub-2', username: 'bob', password: PW2 },
        { name: 'robot', token: 'tok-77' },
      ]);
    } finally {
      cleanup();
    }
  });

  it('defaults: no pool, quotaFloor 0, status page on', () => {
    const config = mustLoad({});
    assert.equal(config.upstreams[0]?.credentialPool, undefined);
    assert.equal(config.upstreams[0]?.quotaFloor, 0);
    assert.deepEqual(config.status, { enabled: true });
    const off = withYaml('status: { enabled: false }\n', (file) => mustLoad({ file }));
    assert.deepEqual(off.status, { enabled: false });
  });

  it('rejects duplicate or unsafe names, members without secrets, unknown keys and both forms at once', () => {
    const errors = withYaml(
      hub(
        [
          '    credentials: { username: x, password: y }',
          '    quotaFloor: -1',
          '    credentialPool:',
          `      - { name: a, username: alice, password: ${PW1} }`,
          `      - { name: b, username: bob, password: ${PW2} }`,
          '      - { name: "bad name", token: t }',
          '      - { name: c }',
          '      - { name: d, token: t, pasword: oops }',
          '      - { username: e, password: f }',
          '',
        ].join('\n'),
      ),
      (file) => mustFail({ file }),
    );
    const text = errors.join('\n');
    assert.match(text, /upstreams\.docker\.io\.quotaFloor: /);
    assert.match(text, /upstreams\.docker\.io\.credentialPool\[2\]\.name: expected a name/);
    assert.match(text, /upstreams\.docker\.io\.credentialPool\[3\]: a pool member needs a username with a password, or a token/);
    assert.match(text, /upstreams\.docker\.io\.credentialPool\[4\]\.pasword: unknown key \(allowed keys: name, /);
    assert.match(text, /upstreams\.docker\.io\.credentialPool\[5\]\.name: is required/);
    assert.ok(!text.includes(PW1) && !text.includes(PW2), 'no secret in errors');
    const twice = withYaml(hub(`    credentialPool:\n      - { name: a, username: alice, password: ${PW1} }\n      - { name: a, token: t }\n`), (file) => mustFail({ file }));
    assert.deepEqual(twice, ['upstreams.docker.io.credentialPool[1].name: "a" is used twice; names must be unique']);
    const both = withYaml(hub(`    credentials: { username: x, password: y }\n    credentialPool:\n      - { name: a, token: t }\n`), (file) => mustFail({ file }));
    assert.deepEqual(both, ['upstreams.docker.io.credentialPool: set either credentials or credentialPool, not both']);
  });

  it('names the member and variable when a secret source fails', () => {
    const errors = withYaml(hub('    credentialPool:\n      - { name: a, username: alice, passwordEnv: MISSING_PW }\n'), (file) => mustFail({ file, env: {} }));
    assert.deepEqual(errors, ['upstreams.docker.io.credentialPool[0].passwordEnv: environment variable MISSING_PW is not set']);
  });

  it('an upstream with a pool cannot be opened to anonymous clients', () => {
    const yaml = `auth: { tokens: [{ name: ci, token: client-tok }] }\n${hub('    access: { anonymous: true }\n    credentialPool:\n      - { name: a, token: t }\n')}`;
    const errors = withYaml(yaml, (file) => mustFail({ file }));
    assert.ok(errors.some((e) => e.startsWith('upstreams.docker.io.access.anonymous:')), errors.join('\n'));
  });

  it('config check shows names and masks every secret; the rendering loads back', () => {
    const { dir, cleanup } = tempDir();
    try {
      const yaml = `status: { enabled: false }\n${hub(`    quotaFloor: 5\n    credentialPool:\n      - { name: a, username: alice, password: ${PW1} }\n      - { name: b, token: ${PW2} }\n`)}`;
      const config = mustLoad({ file: writeFile(dir, 'in.yaml', yaml) });
      const text = renderEffective(config);
      assert.ok(!text.includes(PW1) && !text.includes(PW2));
      const shape = parse(text) as { status: unknown; upstreams: Record<string, { quotaFloor: number; credentialPool: unknown }> };
      assert.deepEqual(shape.status, { enabled: false });
      assert.equal(shape.upstreams['docker.io']?.quotaFloor, 5);
      assert.deepEqual(shape.upstreams['docker.io']?.credentialPool, [
        { name: 'a', username: 'alice', password: '***' },
        { name: 'b', token: '***' },
      ]);
      const noSecrets = mustLoad({ file: writeFile(dir, 'plain.yaml', `status: { enabled: false }\n${hub('    quotaFloor: 5\n')}`) });
      assert.deepEqual(mustLoad({ file: writeFile(dir, 'out.yaml', renderEffective(noSecrets)) }), noSecrets);
    } finally {
      cleanup();
    }
  });
});
