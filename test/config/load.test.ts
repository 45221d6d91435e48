import assert from 'node:assert/strict';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { loadConfig } from '../../src/config/load.js';
import { defaultYaml, examplesDir, mustFail, mustLoad, tempDir, withYaml, writeFile } from './helpers.js';

const GIB = 1024 ** 3;

describe('embedded defaults', () => {
  it('produce a complete config when there is no file', () => {
    const config = mustLoad({ cwd: '/srv/berth' });
    assert.deepEqual(config.listen, { host: '127.0.0.1', port: 5000 });
    assert.deepEqual(config.storage, { path: '/srv/berth/berth-data', maxSize: 0, fsync: true, highWatermark: 0.95, lowWatermark: 0.85, backend: 'fs' });
    assert.equal(config.defaultUpstream, 'docker.io');
    assert.equal(config.offline, false);
    assert.equal(config.shutdownGraceMs, 30_000);
    assert.equal(config.log.level, 'info');
    assert.equal(config.metrics.enabled, true);
    assert.deepEqual(config.upstreams, [
      {
        name: 'docker.io',
        url: 'https://registry-1.docker.io',
        aliases: ['index.docker.io', 'registry-1.docker.io'],
        tagTtlMs: 300_000,
        maxStaleMs: 7 * 86_400_000,
        revalidate: 'background',
        negativeTtlMs: 30_000,
        quotaFloor: 0,
        timeouts: { connectMs: 10_000, headersMs: 30_000, idleMs: 60_000, fillTotalMs: 3_600_000 },
        connections: 16,
        parallelFetch: { minSize: 32 * 1024 * 1024, connections: 4 },
        retries: 2,
        offline: false,
        breaker: { failures: 5, coolDownMs: 30_000 },
      },
    ]);
  });

  it('resolve the default storage path against process.cwd() when no cwd is given', () => {
    assert.equal(mustLoad({}).storage.path, resolve(process.cwd(), 'berth-data'));
  });

  it('apply per-upstream defaults, with docker.io aliases only for docker.io', () => {
    const yaml = 'upstreams:\n  docker.io: { url: https://registry-1.docker.io }\n  ghcr.io: { url: https://ghcr.io/ }\n';
    const config = withYaml(yaml, (file) => mustLoad({ file }));
    const [hub, ghcr] = config.upstreams;
    assert.deepEqual(hub?.aliases, ['index.docker.io', 'registry-1.docker.io']);
    assert.equal(ghcr?.name, 'ghcr.io');
    assert.equal(ghcr?.url, 'https://ghcr.io', 'trailing slash is removed');
    assert.deepEqual(ghcr?.aliases, []);
    assert.equal(ghcr?.tagTtlMs, 300_000);
    assert.equal(ghcr?.connections, 16);
  });

  it('are not shared between loads', () => {
    const first = mustLoad({});
    const second = mustLoad({});
    assert.notEqual(first, second);
    assert.notEqual(first.upstreams[0], second.upstreams[0]);
    assert.notEqual(first.upstreams[0]?.aliases, second.upstreams[0]?.aliases);
    assert.deepEqual(first, second);
  });
});

describe('config/default.yaml', () => {
  it('loads and equals the embedded defaults', () => {
    const fromFile = mustLoad({ file: defaultYaml, cwd: '/srv/berth' });
    const embedded = mustLoad({ cwd: '/srv/berth' });
    assert.deepEqual(fromFile, embedded);
  });
});

describe('config/examples', () => {
  it('minimal.yaml loads with its values and defaults elsewhere', () => {
    const config = mustLoad({ file: join(examplesDir, 'minimal.yaml') });
    assert.deepEqual(config.listen, { host: '127.0.0.1', port: 5000 });
    assert.equal(config.storage.path, '/var/lib/berth');
    assert.equal(config.upstreams.length, 1);
    assert.equal(config.upstreams[0]?.name, 'docker.io');
    assert.equal(config.upstreams[0]?.url, 'https://registry-1.docker.io');
    assert.equal(config.upstreams[0]?.tagTtlMs, 5 * 60_000);
    assert.equal(config.defaultUpstream, 'docker.io');
  });

  it('multi-registry.yaml only lacks its secret file, which the error names', () => {
    const errors = mustFail({ file: join(examplesDir, 'multi-registry.yaml'), env: { DOCKERHUB_TOKEN: 'hub-secret-value' } });
    assert.equal(errors.length, 1, errors.join('\n'));
    assert.match(errors[0] ?? '', /^upstreams\.registry\.example\.com:5000\.credentials\.passwordFile: cannot read file "\/run\/secrets\/registry-example-password"/);
  });

  it('multi-registry.yaml loads all five upstreams once its secrets exist', async () => {
    const { readFileSync } = await import('node:fs');
    const { dir, cleanup } = tempDir();
    try {
      const secret = writeFile(dir, 'password', 'private-secret-value\n');
      const text = readFileSync(join(examplesDir, 'multi-registry.yaml'), 'utf8').replace('/run/secrets/registry-example-password', secret);
      const file = writeFile(dir, 'multi.yaml', text);
      const config = mustLoad({ file, env: { DOCKERHUB_TOKEN: 'hub-secret-value' } });
      assert.deepEqual(config.upstreams.map((u) => u.name), ['docker.io', 'ghcr.io', 'quay.io', 'registry.k8s.io', 'registry.example.com:5000']);
      assert.deepEqual(config.listen, { host: '0.0.0.0', port: 5000 });
      assert.equal(config.storage.maxSize, 200 * GIB);
      const priv = config.upstreams[4];
      assert.deepEqual(priv?.credentials, { username: 'ci-puller', password: 'private-secret-value' });
      assert.equal(priv?.revalidate, 'first');
      assert.equal(priv?.timeouts.fillTotalMs, 3 * 3_600_000);
      assert.equal(priv?.timeouts.connectMs, 10_000, 'unset timeouts keep their defaults');
      assert.deepEqual(config.upstreams[0]?.credentials, { username: 'berth-mirror', password: 'hub-secret-value' });
    } finally {
      cleanup();
    }
  });
});

describe('precedence: defaults < file < env < flags', () => {
  const yaml = [
    'listen: 10.0.0.1:6000',
    'storage: { path: /from/file, maxSize: 10GiB }',
    'offline: false',
    'log: { level: warn }',
    '',
  ].join('\n');

  it('file overrides defaults', () => {
    const config = withYaml(yaml, (file) => mustLoad({ file }));
    assert.deepEqual(config.listen, { host: '10.0.0.1', port: 6000 });
    assert.equal(config.storage.path, '/from/file');
    assert.equal(config.storage.maxSize, 10 * GIB);
    assert.equal(config.log.level, 'warn');
    assert.equal(config.storage.fsync, true, 'unset keys keep their default');
  });

  it('environment overrides the file', () => {
    const env = {
      BERTH_LISTEN: '[::1]:7000',
      BERTH_DATA_DIR: '/from/env',
      BERTH_LOG_LEVEL: 'DEBUG',
      BERTH_OFFLINE: 'yes',
      BERTH_MAX_SIZE: '1GiB',
    };
    const config = withYaml(yaml, (file) => mustLoad({ file, env }));
    assert.deepEqual(config.listen, { host: '::1', port: 7000 });
    assert.equal(config.storage.path, '/from/env');
    assert.equal(config.storage.maxSize, GIB);
    assert.equal(config.log.level, 'debug');
    assert.equal(config.offline, true);
  });

  it('flags override the environment', () => {
    const env = { BERTH_LISTEN: '[::1]:7000', BERTH_DATA_DIR: '/from/env', BERTH_LOG_LEVEL: 'debug', BERTH_OFFLINE: 'true' };
    const flags = { listen: ':8000', dataDir: 'relative/dir', logLevel: 'error', offline: false };
    const config = withYaml(yaml, (file) => mustLoad({ file, env, flags, cwd: '/work' }));
    assert.deepEqual(config.listen, { host: '0.0.0.0', port: 8000 });
    assert.equal(config.storage.path, '/work/relative/dir');
    assert.equal(config.log.level, 'error');
    assert.equal(config.offline, false, 'an explicit false flag wins over BERTH_OFFLINE=true');
  });

  it('empty environment variables count as unset', () => {
    const config = withYaml(yaml, (file) => mustLoad({ file, env: { BERTH_LISTEN: '', BERTH_LOG_LEVEL: '' } }));
    assert.deepEqual(config.listen, { host: '10.0.0.1', port: 6000 });
    assert.equal(config.log.level, 'warn');
  });

  it('BERTH_CONFIG names the file when none is given, and an explicit file wins', () => {
    withYaml('log: { level: error }\n', (envFile) => {
      assert.equal(mustLoad({ env: { BERTH_CONFIG: envFile } }).log.level, 'error');
      const explicit = mustLoad({ file: defaultYaml, env: { BERTH_CONFIG: envFile } });
      assert.equal(explicit.log.level, 'info');
    });
  });

  it('env and flag errors name their source', () => {
    const errors = mustFail({
      env: { BERTH_LISTEN: 'nope', BERTH_OFFLINE: 'maybe', BERTH_MAX_SIZE: '5 parsecs', BERTH_LOG_LEVEL: 'loud' },
      flags: { listen: '1.2.3.4', logLevel: 'chatty', dataDir: ' ' },
    });
    for (const source of ['BERTH_LISTEN', 'BERTH_OFFLINE', 'BERTH_MAX_SIZE', 'BERTH_LOG_LEVEL', '--listen', '--log-level', '--data-dir']) {
      assert.ok(errors.some((e) => e.startsWith(`${source}: `)), `no error for ${source} in:\n${errors.join('\n')}`);
    }
    assert.equal(errors.length, 7);
  });
});

describe('frozen result', () => {
  it('is deeply frozen', () => {
    const config = withYaml(
      'upstreams:\n  docker.io:\n    url: https://registry-1.docker.io\n    credentials: { username: u, password: p }\n',
      (file) => mustLoad({ file }),
    );
    assert.ok(Object.isFrozen(config));
    assert.ok(Object.isFrozen(config.listen));
    assert.ok(Object.isFrozen(config.storage));
    assert.ok(Object.isFrozen(config.upstreams));
    assert.ok(Object.isFrozen(config.upstreams[0]));
    assert.ok(Object.isFrozen(config.upstreams[0]?.aliases));
    assert.ok(Object.isFrozen(config.upstreams[0]?.timeouts));
    assert.ok(Object.isFrozen(config.upstreams[0]?.credentials));
    assert.throws(() => {
      (config.storage as { path: string }).path = '/elsewhere';
    }, TypeError);
    assert.throws(() => (config.upstreams as unknown as unknown[]).push('x'), TypeError);
  });

  it('mutation attempts on one result do not leak into the next load', () => {
    const first = mustLoad({});
    try {
      (first.upstreams[0]?.aliases as string[]).push('evil.example.com');
    } catch {
      // frozen: expected
    }
    assert.deepEqual(mustLoad({}).upstreams[0]?.aliases, ['index.docker.io', 'registry-1.docker.io']);
  });
});

describe('loadConfig result shape', () => {
  it('returns ok:false with a list of strings, never throws, for a missing file', () => {
    const result = loadConfig({ file: '/nonexistent/berth.yaml', env: {}, flags: {} });
    assert.equal(result.ok, false);
    if (!result.ok) {
      assert.equal(result.errors.length, 1);
      assert.match(result.errors[0] ?? '', /\/nonexistent\/berth\.yaml.*cannot read.*ENOENT/);
    }
  });
});

describe('relative config file path', () => {
  it('is read relative to cwd', () => {
    const { dir, cleanup } = tempDir();
    try {
      writeFile(dir, 'berth.yaml', 'storage: { path: data }\n');
      const config = mustLoad({ file: 'berth.yaml', cwd: dir });
      assert.equal(config.storage.path, join(dir, 'data'));
    } finally {
      cleanup();
    }
  });
});
