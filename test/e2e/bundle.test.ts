/** Air-gap bundles: export from one cache, import into an empty one, serve it with the upstream gone. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { makeImageSpec, makeIndexSpec, pushImage, type ImageFixture } from '../support/images.js';
import { startFaultProxy, type FaultProxy } from '../support/proxy.js';
import { startRegistry, type Registry } from '../support/registry.js';
import { digestOfDir, skopeoCopy, skopeoInspectRaw } from '../support/skopeo.js';
import { makeTempDir, type TempDir } from '../support/tempdir.js';
import { MiB, isStored, pullOk } from './cache-support.js';
import { berthCli } from './daemon.js';
import { startMirror, writeMirrorConfig, type Mirror } from './harness.js';

describe('export and import bundles', () => {
  let registry: Registry;
  let proxy: FaultProxy;
  let tmp: TempDir;
  let idx: ImageFixture;
  let app: ImageFixture;
  let tool: ImageFixture;
  let first: Mirror;
  let bundle: string;

  before(async () => {
    registry = await startRegistry();
    idx = await pushImage(registry.url, 'bundle/idx', '1.0', makeIndexSpec({
      seed: 'bundle-idx',
      mediaTypeFamily: 'oci',
      platforms: [
        { platform: { os: 'linux', architecture: 'amd64' }, layerSizes: [2 * MiB] },
        { platform: { os: 'linux', architecture: 'arm64', variant: 'v8' }, layerSizes: [1 * MiB] },
      ],
    }));
    app = await pushImage(registry.url, 'bundle/app', '1.0', makeImageSpec({ seed: 'bundle-app', layerSizes: [3 * MiB, 4096], mediaTypeFamily: 'docker' }));
    tool = await pushImage(registry.url, 'library/tool', '1.5', makeImageSpec({ seed: 'bundle-tool', layerSizes: [512 * 1024], mediaTypeFamily: 'oci' }));
    proxy = await startFaultProxy(registry.url);
    tmp = await makeTempDir('bundle');
    first = await startMirror({ upstreams: { 'docker.io': proxy.url }, dataDir: join(tmp.path, 'connected') });
    await pullOk(first.url, idx, tmp.path, { all: true });
    await pullOk(first.url, app, tmp.path);
    await pullOk(first.url, { ...tool, ref: 'tool:1.5' }, tmp.path);
    bundle = join(tmp.path, 'bundle.tar');
  });

  after(async () => {
    await first?.close();
    await proxy?.close();
    await registry?.close();
    await tmp?.close();
  });

  test('export writes an OCI layout tar that skopeo reads, while the daemon runs', async () => {
    const r = await berthCli(['export', '--config', first.configFile, '-o', bundle, 'bundle/idx:1.0', 'bundle/app:1.0', 'tool:1.5']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /wrote .*bundle\.tar: 3 image\(s\)/);
    const unique = await skopeoInspectRaw(`oci-archive:${bundle}:1.5`);
    assert.equal(unique.code, 0, unique.stderr);
    assert.equal(unique.stdout, tool.manifest.toString('utf8'));
    // Two images are tagged 1.0: their ref names carry the repository.
    const shared = await skopeoInspectRaw(`oci-archive:${bundle}:bundle/idx:1.0`);
    assert.equal(shared.code, 0, shared.stderr);
    assert.equal(shared.stdout, idx.manifest.toString('utf8'));
    const index = JSON.parse((await readFile(bundle)).toString('latin1').match(/\{\s*"schemaVersion": 2,\s*"mediaType": "application\/vnd\.oci\.image\.index\.v1\+json",\s*"manifests"[\s\S]*?\n\}/)![0]) as { manifests: Array<{ mediaType: string; annotations: Record<string, string> }> };
    const names = index.manifests.map((m) => [m.annotations['io.containerd.image.name'], m.annotations['org.opencontainers.image.ref.name'], m.mediaType]);
    assert.deepEqual(names, [
      ['docker.io/bundle/idx:1.0', 'bundle/idx:1.0', idx.mediaType],
      // Docker-typed manifests keep their type (byte-exact); skopeo's oci transport only selects OCI-typed entries.
      ['docker.io/bundle/app:1.0', 'bundle/app:1.0', app.mediaType],
      ['docker.io/library/tool:1.5', '1.5', tool.mediaType],
    ]);

    const missing = await berthCli(['export', '--config', first.configFile, '-o', join(tmp.path, 'x.tar'), 'bundle/none:1']);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /not in the tag index/);
  });

  test('import into an empty data dir; with the upstream stopped, images pull by tag and by digest', async () => {
    const dataDir = join(tmp.path, 'offline');
    const dir = join(tmp.path, 'offline-config');
    await import('node:fs/promises').then((fs) => fs.mkdir(dir, { recursive: true }));
    const configFile = await writeMirrorConfig(dir, dataDir, { upstreams: { 'docker.io': proxy.url } });
    const r = await berthCli(['import', '--config', configFile, bundle]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /docker\.io\/bundle\/idx:1\.0 sha256:/);
    assert.match(r.stdout, /3 tag\(s\)/);
    const again = await berthCli(['import', '--config', configFile, bundle]);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /imported 0 blobs and manifests .*already present/);

    await registry.stop();
    const offline = await startMirror({ upstreams: { 'docker.io': proxy.url }, dataDir });
    try {
      const gets = proxy.count('GET', /\/blobs\//);
      await pullOk(offline.url, idx, tmp.path, { all: true });
      await pullOk(offline.url, app, tmp.path);
      await pullOk(offline.url, { ...tool, ref: 'tool:1.5' }, tmp.path);
      const out = join(tmp.path, 'by-digest');
      const host = offline.url.replace('http://', '');
      const byDigest = await skopeoCopy(`docker://${host}/bundle/app@${app.digest}`, `dir:${out}`);
      assert.equal(byDigest.code, 0, byDigest.stderr);
      assert.equal(await digestOfDir(out), app.digest);
      assert.equal(proxy.count('GET', /\/blobs\//), gets, 'nothing came from upstream');
    } finally {
      await offline.close();
      await registry.start();
    }
  });

  test('a damaged bundle is refused and leaves no damaged blob behind', async () => {
    const bytes = await readFile(bundle);
    const at = bytes.indexOf('layer-bundle-app/layer/0.bin');
    assert.ok(at > 0);
    bytes[at + 100_000] = bytes[at + 100_000]! ^ 0xff;
    const damaged = join(tmp.path, 'damaged.tar');
    await writeFile(damaged, bytes);
    const dataDir = join(tmp.path, 'damaged-data');
    const r = await berthCli(['import', '--data-dir', dataDir, damaged]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /sha256:[0-9a-f]{64}: content does not match its digest/);
    assert.equal(await isStored(dataDir, app.layers[0]!.digest), false);
  });
});
