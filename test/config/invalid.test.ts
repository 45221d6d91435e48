import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mustFail, mustLoad, withYaml } from './helpers.js';

/** Loads YAML text and returns its errors. */
function errorsFor(yaml: string): string[] {
  return withYaml(yaml, (file) => mustFail({ file }));
}

function assertError(errors: string[], pattern: RegExp): void {
  assert.ok(errors.some((e) => pattern.test(e)), `expected an error matching ${pattern}, got:\n${errors.join('\n')}`);
}

const HUB = 'upstreams:\n  docker.io:\n    url: https://registry-1.docker.io\n';

describe('invalid files name the key and the problem', () => {
  it('bad duration', () => {
    const errors = errorsFor(`${HUB}    tagTtl: 5x\n`);
    assert.equal(errors.length, 1);
    assert.match(errors[0] ?? '', /^upstreams\.docker\.io\.tagTtl: invalid duration "5x"/);
  });

  it('bad nested duration and out-of-range timeout', () => {
    const errors = errorsFor(`${HUB}    timeouts: { idle: soon, fillTotal: 30d }\n`);
    assertError(errors, /^upstreams\.docker\.io\.timeouts\.idle: invalid duration "soon"/);
    assertError(errors, /^upstreams\.docker\.io\.timeouts\.fillTotal: must be at most/);
  });

  it('bad size', () => {
    assertError(errorsFor('storage: { maxSize: lots }\n'), /^storage\.maxSize: invalid size "lots"/);
  });

  it('unknown key at the top level, nested, and inside an upstream', () => {
    const errors = errorsFor(`lisen: 1\nstorage: { pth: /x }\n${HUB}    tagTTL: 5m\n`);
    assertError(errors, /^lisen: unknown key/);
    assertError(errors, /^storage\.pth: unknown key \(allowed keys: path, maxSize, fsync, highWatermark, lowWatermark, backend, s3, localCache\)/);
    assertError(errors, /^upstreams\.docker\.io\.tagTTL: unknown key .*tagTtl/);
    assert.equal(errors.length, 3);
  });

  it('bad url', () => {
    assertError(errorsFor('upstreams:\n  ghcr.io: { url: ftp://ghcr.io }\ndefaultUpstream: ghcr.io\n'), /^upstreams\.ghcr\.io\.url: .*http/);
    assertError(errorsFor('upstreams:\n  ghcr.io: { url: not a url }\ndefaultUpstream: ghcr.io\n'), /^upstreams\.ghcr\.io\.url: /);
    assertError(errorsFor('upstreams:\n  ghcr.io: {}\ndefaultUpstream: ghcr.io\n'), /^upstreams\.ghcr\.io\.url: is required/);
  });

  it('url with embedded credentials is rejected without echoing them', () => {
    const errors = errorsFor('upstreams:\n  docker.io: { url: "https://bob:pa55word@registry-1.docker.io" }\n');
    assertError(errors, /^upstreams\.docker\.io\.url: must not contain credentials/);
    assert.ok(!errors.join('\n').includes('pa55word'));
  });

  it('defaultUpstream not configured', () => {
    const errors = errorsFor('defaultUpstream: quay.io\n');
    assert.deepEqual(errors, ['defaultUpstream: "quay.io" is not a configured upstream; configured upstreams: docker.io']);
  });

  it('defaultUpstream missing because docker.io is not configured', () => {
    assertError(errorsFor('upstreams:\n  ghcr.io: { url: https://ghcr.io }\n'), /^defaultUpstream: "docker\.io" is not a configured upstream; configured upstreams: ghcr\.io/);
  });

  it('defaultUpstream naming an alias points to the upstream name', () => {
    assertError(errorsFor('defaultUpstream: index.docker.io\n'), /alias of "docker\.io"/);
  });

  it('bad listen', () => {
    assertError(errorsFor('listen: localhost\n'), /^listen: expected HOST:PORT/);
    assertError(errorsFor('listen: 127.0.0.1:99999\n'), /^listen: expected HOST:PORT.*0-65535/);
    assertError(errorsFor('listen: [5000]\n'), /^listen: expected a listen address, got a list/);
  });

  it('bad upstream name and alias', () => {
    assertError(errorsFor(`${HUB}  GHCR.io: { url: https://ghcr.io }\n`), /^upstreams\.GHCR\.io: upstream names are lowercase registry hosts/);
    assertError(errorsFor(`${HUB}    aliases: [Index.Docker.IO]\n`), /^upstreams\.docker\.io\.aliases\[0\]: expected a lowercase registry host/);
  });

  it('upstream names may carry a valid port only; __proto__ keys are refused', () => {
    assertError(errorsFor('upstreams:\n  registry.local:70000: { url: https://registry.local }\n'), /^upstreams\.registry\.local:70000: upstream names/);
    assertError(errorsFor('upstreams:\n  "__proto__": { url: https://x.example }\n'), /^upstreams\.__proto__: key not allowed/);
    assertError(errorsFor('__proto__: { listen: 1 }\n'), /^__proto__: key not allowed/);
  });

  it('alias used by two upstreams', () => {
    const errors = errorsFor(`${HUB}  mirror.gcr.io:\n    url: https://mirror.gcr.io\n    aliases: [index.docker.io]\n`);
    assertError(errors, /^upstreams\.mirror\.gcr\.io\.aliases\[0\]: "index\.docker\.io" already routes to upstream "docker\.io"/);
  });

  it('wrong types and enum values', () => {
    const errors = errorsFor(`log: { level: loud }\noffline: "yes"\n${HUB}    connections: 0\n    retries: 1.5\n    revalidate: never\n`);
    assertError(errors, /^log\.level: expected one of "trace", "debug", "info"/);
    assertError(errors, /^offline: expected boolean/);
    assertError(errors, /^upstreams\.docker\.io\.connections: /);
    assertError(errors, /^upstreams\.docker\.io\.retries: must be a whole number/);
    assertError(errors, /^upstreams\.docker\.io\.revalidate: expected one of "background", "first"/);
  });

  it('empty upstreams map', () => {
    assertError(errorsFor('upstreams: {}\n'), /^upstreams: at least one upstream is required/);
  });

  it('reports every problem at once', () => {
    const errors = errorsFor(`listen: nope\nstorage: { maxSize: lots }\n${HUB}    tagTtl: 5x\n`);
    assert.equal(errors.length, 3, errors.join('\n'));
  });

  it('YAML syntax errors give file, line and column', () => {
    withYaml('listen: 127.0.0.1:5000\nstorage:\n  path: [unclosed\n', (file) => {
      const errors = mustFail({ file });
      assert.match(errors[0] ?? '', new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:\\d+:\\d+: YAML syntax error: `));
    });
    assertError(errorsFor('log: { level: info }\nlog: { level: debug }\n'), /:2:1: YAML syntax error: Map keys must be unique/);
  });

  it('a top level that is not a mapping is an error', () => {
    assertError(errorsFor('- listen\n- storage\n'), /expected a mapping of options/);
  });

  it('an empty file or empty sections take the defaults', () => {
    const defaults = mustLoad({});
    assert.deepEqual(withYaml('', (file) => mustLoad({ file })), defaults);
    assert.deepEqual(withYaml('# only comments\nlog:\nstorage:\n', (file) => mustLoad({ file })), defaults);
  });

  it('an unreadable file is an error naming the file', () => {
    const errors = mustFail({ file: '/nonexistent/dir/berth.yaml' });
    assert.deepEqual(errors, ['config file "/nonexistent/dir/berth.yaml": cannot read (ENOENT: no such file or directory)']);
  });
});
