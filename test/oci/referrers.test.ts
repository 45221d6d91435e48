/** Pure referrers vocabulary and Accept negotiation for artifacts. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseDigest } from '../../src/oci/digest.js';
import { accepts, DOCKER_MANIFEST, OCI_INDEX, OCI_MANIFEST, upstreamAccept } from '../../src/oci/media-types.js';
import { emptyReferrersIndex, fallbackTag, nextReferrersPage, parseReferrersIndex, referrersAnswer } from '../../src/oci/referrers.js';
import { isValidTag } from '../../src/oci/names.js';

const d = (n: number, type: string): object => ({ mediaType: OCI_MANIFEST, digest: `sha256:${String(n).repeat(64).slice(0, 64)}`, size: 10, artifactType: type });

describe('referrers index', () => {
  it('names the fallback tag <alg>-<hex>, cut to a valid tag for sha512', () => {
    assert.equal(fallbackTag(parseDigest(`sha256:${'a'.repeat(64)}`)!), `sha256-${'a'.repeat(64)}`);
    const long = fallbackTag(parseDigest(`sha512:${'b'.repeat(128)}`)!);
    assert.equal(long, `sha512-${'b'.repeat(64)}`);
    assert.ok(isValidTag(long));
  });

  it('filters by artifactType, keeping the other fields; unfiltered answers are the bytes unchanged', () => {
    const bytes = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [d(1, 'a/sig'), d(2, 'a/sbom')], annotations: { x: 'y' } }));
    assert.equal(referrersAnswer(bytes, undefined).bytes, bytes);
    assert.equal(referrersAnswer(bytes, undefined).filtered, false);
    const only = referrersAnswer(bytes, 'a/sbom');
    assert.equal(only.filtered, true);
    const doc = JSON.parse(only.bytes.toString()) as { manifests: Array<{ artifactType: string }>; annotations: object };
    assert.deepEqual(doc.manifests.map((m) => m.artifactType), ['a/sbom']);
    assert.deepEqual(doc.annotations, { x: 'y' });
  });

  it('refuses documents that are not an index of descriptors', () => {
    assert.equal(parseReferrersIndex(Buffer.from('<html>')), undefined);
    assert.equal(parseReferrersIndex(Buffer.from('{"manifests":[{"digest":1}]}')), undefined);
    assert.equal(parseReferrersIndex(Buffer.from(JSON.stringify({ mediaType: OCI_MANIFEST, manifests: [] }))), undefined);
    assert.deepEqual(parseReferrersIndex(emptyReferrersIndex())?.manifests, []);
  });

  it('follows next links within the repository only', () => {
    assert.equal(nextReferrersPage('</v2/a/b/referrers/sha256:x?n=1&last=y>; rel="next"', 'a/b'), 'referrers/sha256:x?n=1&last=y');
    assert.equal(nextReferrersPage('<https://reg.example/prefix/v2/a/b/referrers/sha256:x?last=y>; rel=next', 'a/b'), 'referrers/sha256:x?last=y');
    assert.equal(nextReferrersPage('</v2/other/referrers/sha256:x>; rel="next"', 'a/b'), undefined);
    assert.equal(nextReferrersPage('</v2/a/b/tags/list>; rel="next"', 'a/b'), undefined);
    assert.equal(nextReferrersPage('</v2/a/b/referrers/sha256:x>; rel="prev"', 'a/b'), undefined);
    assert.equal(nextReferrersPage(undefined, 'a/b'), undefined);
  });
});

describe('Accept for artifacts', () => {
  it('enforces only a choice among known manifest types', () => {
    assert.equal(accepts([DOCKER_MANIFEST], OCI_INDEX), false, 'an index never reaches a client that cannot read one');
    assert.equal(accepts([OCI_MANIFEST], OCI_MANIFEST), true);
    assert.equal(accepts(['*/*'], OCI_INDEX), true);
    assert.equal(accepts(['application/vnd.cncf.helm.config.v1+json'], OCI_MANIFEST), true, 'only an artifact type named');
    assert.equal(accepts([OCI_MANIFEST], 'application/vnd.oci.artifact.manifest.v1+json'), true, 'unknown manifest types pass through');
  });

  it('adds the known types upstream unless the client chose among them', () => {
    assert.equal(upstreamAccept([DOCKER_MANIFEST]), DOCKER_MANIFEST);
    for (const a of [[], ['*/*'], ['application/vnd.cncf.helm.config.v1+json'], [DOCKER_MANIFEST, '*/*']]) {
      const sent = upstreamAccept(a).split(', ');
      assert.ok(sent.includes(OCI_MANIFEST) && sent.includes(OCI_INDEX), JSON.stringify(a));
      for (const t of a) assert.ok(sent.includes(t));
    }
  });
});
