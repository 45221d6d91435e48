import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { renderEffective } from '../../src/config/render.js';
import { defaultYaml, mustLoad, tempDir, writeFile } from './helpers.js';

describe('renderEffective', () => {
  it('renders readable durations, sizes and listen address', () => {
    const config = mustLoad({ env: { BERTH_MAX_SIZE: '50GiB', BERTH_LISTEN: '[::1]:5001' } });
    const shape = parse(renderEffective(config));
    assert.equal(shape.listen, '[::1]:5001');
    assert.equal(shape.storage.maxSize, '50GiB');
    assert.equal(shape.shutdownGrace, '30s');
    assert.equal(shape.upstreams['docker.io'].tagTtl, '5m');
    assert.equal(shape.upstreams['docker.io'].timeouts.fillTotal, '1h');
  });

  it('loads back to the same config', () => {
    const { dir, cleanup } = tempDir();
    try {
      const yaml = [
        'listen: ":5000"',
        'storage: { path: /data, maxSize: 1.5GB, fsync: false }',
        'defaultUpstream: ghcr.io',
        'shutdownGrace: 1m30s',
        'upstreams:',
        '  ghcr.io: { url: https://ghcr.io, tagTtl: 250ms, revalidate: first, retries: 0 }',
        '  registry.local:5000: { url: "http://registry.local:5000", aliases: [registry.local], offline: true }',
        '',
      ].join('\n');
      const original = mustLoad({ file: writeFile(dir, 'in.yaml', yaml) });
      const reloaded = mustLoad({ file: writeFile(dir, 'out.yaml', renderEffective(original)) });
      assert.deepEqual(reloaded, original);
      assert.deepEqual(mustLoad({ file: writeFile(dir, 'default.yaml', renderEffective(mustLoad({ file: defaultYaml }))) }), mustLoad({}));
    } finally {
      cleanup();
    }
  });
});
