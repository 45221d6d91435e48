/** Size cap watermarks, pins and scheduled prefetch in the config file. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { renderEffective } from '../../src/config/render.js';
import { defaultYaml, mustFail, mustLoad, tempDir, withYaml, writeFile } from './helpers.js';

describe('storage watermarks, pins and prefetch', () => {
  it('default to 0.95/0.85, nothing pinned, hourly refresh, no prefetch', () => {
    const c = mustLoad({});
    assert.equal(c.storage.highWatermark, 0.95);
    assert.equal(c.storage.lowWatermark, 0.85);
    assert.deepEqual(c.pins, []);
    assert.equal(c.pinRefreshMs, 3_600_000);
    assert.deepEqual(c.prefetch, { images: [], platforms: [], intervalMs: 3_600_000 });
  });

  it('default.yaml states exactly the defaults', () => {
    const c = mustLoad({ file: defaultYaml });
    const d = mustLoad({});
    assert.deepEqual([c.storage.highWatermark, c.storage.lowWatermark, c.pins, c.pinRefreshMs, c.prefetch], [d.storage.highWatermark, d.storage.lowWatermark, d.pins, d.pinRefreshMs, d.prefetch]);
  });

  it('read custom values', () => {
    const yaml = [
      'storage: { maxSize: 300MiB, highWatermark: 0.9, lowWatermark: 0.5 }',
      'pins: ["docker.io/library/node:20*", "ghcr.io/org/app:1"]',
      'pinRefresh: 6h',
      'prefetch: { images: [alpine:3.19], platforms: [linux/amd64, linux/arm64/v8], interval: 30m }',
    ].join('\n');
    const c = withYaml(yaml, (file) => mustLoad({ file }));
    assert.equal(c.storage.maxSize, 300 * 1024 * 1024);
    assert.equal(c.storage.highWatermark, 0.9);
    assert.equal(c.storage.lowWatermark, 0.5);
    assert.deepEqual(c.pins, ['docker.io/library/node:20*', 'ghcr.io/org/app:1']);
    assert.equal(c.pinRefreshMs, 6 * 3_600_000);
    assert.deepEqual(c.prefetch, { images: ['alpine:3.19'], platforms: ['linux/amd64', 'linux/arm64/v8'], intervalMs: 1_800_000 });
  });

  it('reject watermarks out of range or in the wrong order', () => {
    const errors = (yaml: string): string => withYaml(yaml, (file) => mustFail({ file })).join('\n');
    assert.match(errors('storage: { highWatermark: 1.5 }'), /storage\.highWatermark: must be at most 1/);
    assert.match(errors('storage: { lowWatermark: 0 }'), /storage\.lowWatermark: must be above 0/);
    assert.match(errors('storage: { highWatermark: 0.5, lowWatermark: 0.8 }'), /storage\.lowWatermark: lowWatermark must be below highWatermark/);
    assert.match(errors('storage: { highWatermark: lots }'), /storage\.highWatermark/);
  });

  it('reject malformed platforms and empty pins', () => {
    const errors = (yaml: string): string => withYaml(yaml, (file) => mustFail({ file })).join('\n');
    assert.match(errors('prefetch: { platforms: [amd64] }'), /prefetch\.platforms\[0\]: expected os\/architecture/);
    assert.match(errors('pins: [""]'), /pins\[0\]: must not be empty/);
    assert.match(errors('prefetch: { imgs: [] }'), /prefetch\.imgs: unknown key/);
  });

  it('survive a render and reload', () => {
    const { dir, cleanup } = tempDir();
    try {
      const c = withYaml('storage: { maxSize: 1GiB, highWatermark: 0.8, lowWatermark: 0.6 }\npins: [alpine]\nprefetch: { images: [alpine], interval: 0 }\n', (file) => mustLoad({ file }));
      const again = mustLoad({ file: writeFile(dir, 'rendered.yaml', renderEffective(c)) });
      assert.deepEqual(again.storage, c.storage);
      assert.deepEqual(again.pins, c.pins);
      assert.deepEqual(again.prefetch, c.prefetch);
      assert.equal(again.pinRefreshMs, c.pinRefreshMs);
    } finally {
      cleanup();
    }
  });
});
