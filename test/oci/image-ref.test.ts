/** Image references and platforms as people write them. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseDigest } from '../../src/oci/digest.js';
import { formatImageRef, parseImageRef, referenceOf } from '../../src/oci/image-ref.js';
import { parsePlatforms, platformMatches } from '../../src/oci/platform.js';
import { manifestRefs } from '../../src/oci/manifest-refs.js';

const D = `sha256:${'a'.repeat(64)}`;
const DIGEST = parseDigest(D);

describe('image references', () => {
  const ok = (text: string) => {
    const p = parseImageRef(text);
    if (!p.ok) throw new Error(p.error);
    return p.ref;
  };
  it('split host, name, tag and digest', () => {
    assert.deepEqual(ok('alpine'), { name: 'alpine', tag: 'latest' });
    assert.deepEqual(ok('library/alpine:3.19'), { name: 'library/alpine', tag: '3.19' });
    assert.deepEqual(ok('ghcr.io/org/app:1'), { host: 'ghcr.io', name: 'org/app', tag: '1' });
    assert.deepEqual(ok(`localhost:5000/app@${D}`), { host: 'localhost:5000', name: 'app', digest: DIGEST });
    assert.deepEqual(ok(`127.0.0.1:5000/a/b:c@${D}`), { host: '127.0.0.1:5000', name: 'a/b', tag: 'c', digest: DIGEST });
    assert.equal(referenceOf(ok(`a:b@${D}`)), D);
    assert.equal(formatImageRef(ok('ghcr.io/org/app:1')), 'ghcr.io/org/app:1');
  });
  it('reject what is not a reference', () => {
    for (const bad of ['', 'UPPER/case', 'a:b:c', 'a@sha256:12', 'a:-x', '../x']) assert.equal(parseImageRef(bad).ok, false, bad);
  });
});

describe('platforms', () => {
  it('parse lists and match with or without a variant', () => {
    const [amd, arm] = parsePlatforms('linux/amd64, linux/arm64')!;
    assert.ok(platformMatches(arm!, { os: 'linux', architecture: 'arm64', variant: 'v8' }));
    assert.ok(!platformMatches(amd!, { os: 'linux', architecture: 'arm64' }));
    assert.ok(!platformMatches(parsePlatforms('linux/arm/v7')![0]!, { os: 'linux', architecture: 'arm', variant: 'v6' }));
    assert.equal(parsePlatforms('linux'), undefined);
  });
});

describe('manifest references', () => {
  it('read children of an index and config, layers and blobs of a manifest', () => {
    const idx = manifestRefs(Buffer.from(JSON.stringify({ manifests: [{ digest: D, size: 3, mediaType: 'm', platform: { os: 'linux', architecture: 'arm64' } }, { digest: 'bad' }] })));
    assert.deepEqual(idx.children, [{ mediaType: 'm', digest: DIGEST, size: 3, platform: { os: 'linux', architecture: 'arm64' } }]);
    const img = manifestRefs(Buffer.from(JSON.stringify({ config: { digest: D, size: 1 }, layers: [{ digest: D, size: 2 }] })));
    assert.equal(img.blobs.length, 2);
    assert.deepEqual(manifestRefs(Buffer.from('[1')), { children: [], blobs: [] });
  });
});
