/** Pin patterns, and what a pin protects: the tag's manifest, an index's children, their blobs. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseDigest, type Digest } from '../../src/oci/digest.js';
import { closureOf } from '../../src/store/closure.js';
import { Pins, parsePin, type PinRule } from '../../src/store/pins.js';
import type { TagEntry, TagKey } from '../../src/store/tag-index.js';

const d = (n: number): string => `sha256:${n.toString(16).padStart(64, '0')}`;
const naming = { defaultUpstream: 'docker.io', upstreamOf: (h: string) => (h === 'docker.io' || h === 'index.docker.io' ? 'docker.io' : h === 'ghcr.io' ? 'ghcr.io' : undefined) };
const rule = (text: string): PinRule => {
  const r = parsePin(text, naming);
  if (typeof r === 'string') throw new Error(r);
  return r;
};

const manifests = new Map<string, Buffer>([
  [d(1), Buffer.from(JSON.stringify({ manifests: [{ digest: d(2), size: 1 }, { digest: d(3), size: 1 }] }))],
  [d(2), Buffer.from(JSON.stringify({ config: { digest: d(20), size: 1 }, layers: [{ digest: d(21), size: 1 }] }))],
  [d(4), Buffer.from(JSON.stringify({ config: { digest: d(40), size: 1 }, layers: [{ digest: d(41), size: 1 }] }))],
]);
const read = async (x: Digest): Promise<Buffer | undefined> => manifests.get(x.value);

describe('pins', () => {
  it('normalise like a pull: default upstream, aliases, library/, latest', () => {
    assert.deepEqual(rule('node:20*'), { text: 'node:20*', upstream: 'docker.io', repository: 'library/node', tag: '20*', literal: false });
    assert.deepEqual(rule('index.docker.io/library/alpine'), { text: 'index.docker.io/library/alpine', upstream: 'docker.io', repository: 'library/alpine', tag: 'latest', literal: true });
    assert.equal(rule('ghcr.io/org/*').tag, '*');
    assert.equal(rule(`alpine@${d(9)}`).digest?.value, d(9));
    assert.match(String(parsePin('quay.io/x/y:1', naming)), /no upstream is configured for quay\.io/);
  });

  it('globs match tags within one path component', () => {
    const pins = new Pins([rule('docker.io/library/node:20*'), rule('ghcr.io/org/*')], { tags: () => [], readManifest: read });
    assert.ok(pins.isPinnedTag('docker.io', 'library/node', '20-alpine'));
    assert.ok(!pins.isPinnedTag('docker.io', 'library/node', '18'));
    assert.ok(pins.isPinnedTag('ghcr.io', 'org/app', 'v1'));
    assert.ok(!pins.isPinnedTag('ghcr.io', 'org/team/app', 'v1'));
  });

  it('protect the closure of pinned tags and digests, nothing else', async () => {
    const entry = (digest: string): TagEntry => ({ digest, mediaType: 'x', size: 1, fetchedAt: 0 });
    const tags: Array<readonly [TagKey, TagEntry]> = [
      [{ upstream: 'docker.io', repository: 'library/node', tag: '20', accept: '' }, entry(d(1))],
      [{ upstream: 'docker.io', repository: 'library/node', tag: '18', accept: '' }, entry(d(4))],
    ];
    const pins = new Pins([rule('node:20*')], { tags: () => tags, readManifest: read });
    assert.deepEqual([...(await pins.protectedDigests())].sort(), [d(1), d(2), d(3), d(20), d(21)].sort());
    const none = new Pins([], { tags: () => tags, readManifest: read });
    assert.equal((await none.protectedDigests()).size, 0);
    const byDigest = new Pins([rule(`x@${d(4)}`)], { tags: () => [], readManifest: read });
    assert.deepEqual([...(await byDigest.protectedDigests())].sort(), [d(4), d(40), d(41)].sort());
  });

  it('closure tolerates missing and malformed manifests', async () => {
    const roots = [d(7), d(1)].map((x) => parseDigest(x)!);
    const got = await closureOf(roots, async (x) => (x.value === d(1) ? Buffer.from('not json') : undefined));
    assert.deepEqual([...got].sort(), [d(1), d(7)].sort());
  });
});
