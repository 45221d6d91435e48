/** Issue 2: the CLI starts the daemon from a config file; a restart offline still serves the cache. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { startRegistry, type Registry } from '../support/registry.js';
import { seedAll, type Fixtures } from '../support/images.js';
import { digestOfDir, skopeoCopy } from '../support/skopeo.js';
import { makeTempDir, type TempDir } from '../support/tempdir.js';
import { noProxyEnv } from '../support/proc.js';
import { writeMirrorConfig } from './harness.js';
import { BIN, ROOT, spawnBerth } from './cli.js';


describe('CLI daemon and restart on the same data dir', () => {
  let registry: Registry;
  let fixtures: Fixtures;
  let tmp: TempDir;
  let configFile: string;

  before(async () => {
    registry = await startRegistry();
    fixtures = await seedAll(registry.url, undefined, { bigLayerSizes: [512 * 1024] });
    tmp = await makeTempDir('restart');
    configFile = await writeMirrorConfig(tmp.path, join(tmp.path, 'data'), { upstreams: { 'docker.io': registry.url } });
  });

  after(async () => {
    await registry?.close();
    await tmp?.close();
  });

  const pull = async (url: string, ref: string, dest: string): Promise<string> => {
    const out = join(tmp.path, dest);
    const r = await skopeoCopy(`docker://${url.replace('http://', '')}/${ref}`, `dir:${out}`, { all: true });
    assert.equal(r.code, 0, `${ref}: ${r.stderr}`);
    return digestOfDir(out);
  };

  test('npx berth serve pulls, then after a restart with the upstream stopped serves from cache', async () => {
    const first = await spawnBerth(configFile);
    try {
      for (const img of [fixtures.oci, fixtures.dockerList]) assert.equal(await pull(first.url, img.ref, `a-${img.repo.replace('/', '_')}`), img.digest);
    } finally {
      await first.stop();
    }
    assert.equal(first.child.exitCode, 0, 'SIGTERM is a clean shutdown');
    await registry.stop();
    const second = await spawnBerth(configFile);
    try {
      for (const img of [fixtures.oci, fixtures.dockerList]) {
        assert.equal(await pull(second.url, img.ref, `b-${img.repo.replace('/', '_')}`), img.digest, `${img.ref} by tag offline`);
        assert.equal(await pull(second.url, `${img.repo}@${img.digest}`, `c-${img.repo.replace('/', '_')}`), img.digest, `${img.ref} by digest offline`);
      }
    } finally {
      await second.stop();
      await registry.start();
    }
  });

  test('npx berth in the checkout runs the bin', async () => {
    const child = spawn('npx', ['--no-install', 'berth', '--version'], { cwd: ROOT, env: noProxyEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    const [code] = (await once(child, 'exit')) as [number];
    assert.equal(code, 0);
    assert.match(out.trim(), /^\d+\.\d+\.\d+$/);
  });

  test('an invalid config stops the daemon with a message naming the key', async () => {
    const bad = join(tmp.path, 'bad.yaml');
    const { writeFile } = await import('node:fs/promises');
    await writeFile(bad, 'listen: 127.0.0.1:0\nupstreams:\n  docker.io:\n    url: http://127.0.0.1:1\n    tagTtl: 5x\n');
    const child = spawn(process.execPath, [BIN, 'serve', '--config', bad], { cwd: ROOT, env: noProxyEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    const [code] = (await once(child, 'exit')) as [number];
    assert.notEqual(code, 0);
    assert.match(err, /upstreams\.docker\.io\.tagTtl/);
  });
});
