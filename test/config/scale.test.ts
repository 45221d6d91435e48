/** The scale-out options: storage.backend s3, storage.s3, storage.localCache and cluster. */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { renderEffective } from '../../src/config/render.js';
import { examplesDir, mustFail, mustLoad, tempDir, writeFile } from './helpers.js';

const S3 = [
  'storage:',
  '  path: /data',
  '  backend: s3',
  '  s3: { bucket: berth, endpoint: "http://127.0.0.1:7480", accessKeyId: AK, secretAccessKeyEnv: S3_SECRET, prefix: mirror/ }',
  '  localCache: { path: /cache, maxSize: 2GiB }',
  'cluster: { redis: "redis://:pw@127.0.0.1:6379", leaseTtl: 3s }',
  '',
].join('\n');

function withYaml<T>(yaml: string, fn: (file: string) => T): T {
  const { dir, cleanup } = tempDir();
  try {
    return fn(writeFile(dir, 'berth.yaml', yaml));
  } finally {
    cleanup();
  }
}

describe('scale-out configuration', () => {
  it('defaults to the disk store and no cluster', () => {
    const c = mustLoad({});
    assert.equal(c.storage.backend, 'fs');
    assert.equal(c.storage.s3, undefined);
    assert.equal(c.cluster, undefined);
  });

  it('loads object storage, the local cache and the cluster; the secret comes from its source and is masked', () => {
    withYaml(S3, (file) => {
      const c = mustLoad({ file, env: { S3_SECRET: 's3cr3t' } });
      assert.equal(c.storage.backend, 's3');
      assert.deepEqual(c.storage.s3, {
        bucket: 'berth', endpoint: 'http://127.0.0.1:7480', region: 'us-east-1', forcePathStyle: true, prefix: 'mirror/',
        accessKeyId: 'AK', secretAccessKey: 's3cr3t', partSize: 8 * 1024 * 1024, queueSize: 4, staleUploadsMs: 86_400_000,
      });
      assert.deepEqual(c.storage.localCache, { path: '/cache', maxSize: 2 * 1024 ** 3 });
      assert.deepEqual(c.cluster, { redisUrl: 'redis://:pw@127.0.0.1:6379', keyPrefix: 'berth:', leaseTtlMs: 3_000, waitTimeoutMs: 3_600_000 });
      const text = renderEffective(c);
      assert.ok(!text.includes('s3cr3t') && !text.includes(':pw@'), text);
      const shape = parse(text);
      assert.equal(shape.storage.s3.secretAccessKey, '***');
      assert.equal(shape.cluster.redis, 'redis://:***@127.0.0.1:6379');
    });
  });

  it('bounds a bucket: storage.maxSize with backend s3', () => {
    withYaml(S3.replace('backend: s3', 'backend: s3\n  maxSize: 1GiB'), (file) => assert.equal(mustLoad({ file, env: { S3_SECRET: 'x' } }).storage.maxSize, 1024 ** 3));
  });

  it('rejects inconsistent combinations, naming the key', () => {
    withYaml('storage: { backend: s3 }\n', (file) => assert.match(mustFail({ file }).join('\n'), /storage\.s3: required when storage\.backend is s3/));
    withYaml('cluster: { redis: "redis://127.0.0.1:6379" }\n', (file) => assert.match(mustFail({ file }).join('\n'), /^cluster: needs shared object storage/m));
    withYaml(S3, (file) => assert.match(mustFail({ file, env: {} }).join('\n'), /storage\.s3\.secretAccessKeyEnv: environment variable S3_SECRET is not set/));
    withYaml('storage: { backend: s3, s3: { bucket: B } }\n', (file) => assert.match(mustFail({ file }).join('\n'), /storage\.s3\.bucket/));
    withYaml('storage: { backend: s3, s3: { bucket: berth, accessKeyId: AK } }\n', (file) => assert.match(mustFail({ file }).join('\n'), /accessKeyId and a secretAccessKey source together/));
  });

  it('cluster.peerListen with a peer secret source: loaded, the secret never printed', () => {
    const yaml = S3.replace('leaseTtl: 3s }', 'leaseTtl: 3s, peerListen: "10.0.0.5:5001", peerSecretEnv: PEER_SECRET }');
    withYaml(yaml, (file) => {
      const c = mustLoad({ file, env: { S3_SECRET: 'x', PEER_SECRET: 'p33rs3cr3t' } });
      assert.deepEqual(c.cluster?.peerListen, { host: '10.0.0.5', port: 5001 });
      assert.equal(c.cluster?.peerSecret, 'p33rs3cr3t');
      const text = renderEffective(c);
      assert.ok(!text.includes('p33rs3cr3t'), text);
      const shape = parse(text);
      assert.equal(shape.cluster.peerListen, '10.0.0.5:5001');
      assert.equal(shape.cluster.peerSecret, '***');
    });
    const without = S3.replace('leaseTtl: 3s }', 'leaseTtl: 3s, peerListen: "10.0.0.5:5001" }');
    withYaml(without, (file) => assert.match(mustFail({ file, env: { S3_SECRET: 'x' } }).join('\n'), /peerListen and a peerSecret source together/));
    const wildcard = S3.replace('leaseTtl: 3s }', 'leaseTtl: 3s, peerListen: ":5001", peerSecret: s }');
    withYaml(wildcard, (file) => assert.match(mustFail({ file, env: { S3_SECRET: 'x' } }).join('\n'), /cluster\.peerListen: name an address the other nodes reach/));
  });

  it('config/examples/cluster/berth.yaml loads', () => {
    const c = mustLoad({ file: join(examplesDir, 'cluster', 'berth.yaml'), env: { BERTH_S3_SECRET: 'x' } });
    assert.equal(c.storage.backend, 's3');
    assert.equal(c.storage.s3?.endpoint, 'http://minio:9000');
    assert.equal(c.cluster?.redisUrl, 'redis://redis:6379');
    assert.deepEqual(c.listen, { host: '0.0.0.0', port: 5000 });
  });
});
