/** listReferrers: the walk `prefetch --with-referrers` and `export --with-referrers` rely on. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseDigest, type Digest } from '../../src/oci/digest.js';
import { OCI_INDEX, OCI_MANIFEST } from '../../src/oci/media-types.js';
import { listReferrers } from '../../src/proxy/list-referrers.js';
import { unreachable } from '../../src/upstream/error-cause.js';
import type { Outcome } from '../../src/upstream/types.js';

const dg = (c: string): string => `sha256:${c.repeat(64)}`;
const index = (...entries: Array<[string, string]>): Buffer =>
  Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: entries.map(([c, t]) => ({ mediaType: OCI_MANIFEST, digest: dg(c), size: 1, artifactType: t })) }));

// image a ← signature b, SBOM c; SBOM c ← signature d; d ← a (a cycle must not loop).
const graph: Record<string, Buffer> = { [dg('a')]: index(['b', 'sig'], ['c', 'sbom']), [dg('c')]: index(['d', 'sig']), [dg('d')]: index(['a', 'sig']) };
function source(fail?: string): { list: (s: Digest) => Promise<Outcome<{ bytes: Buffer }>>; asked: string[] } {
  const asked: string[] = [];
  return {
    asked,
    list: async (s) => {
      asked.push(s.value);
      if (s.value === fail) return unreachable('refused', 'down');
      return { kind: 'found', value: { bytes: graph[s.value] ?? index() } };
    },
  };
}

describe('listReferrers', () => {
  it('walks referrers of referrers once each, with their subjects', async () => {
    const got = await listReferrers(source().list, parseDigest(dg('a'))!);
    assert.equal(got.kind, 'found');
    if (got.kind !== 'found') return;
    assert.deepEqual(got.value.map((r) => [r.digest, r.subject]), [[dg('b'), dg('a')], [dg('c'), dg('a')], [dg('d'), dg('c')]]);
  });

  it('filters by artifactType, bounds the depth and reports failures', async () => {
    const sigs = await listReferrers(source().list, parseDigest(dg('a'))!, { artifactType: 'sig' });
    assert.deepEqual(sigs.kind === 'found' && sigs.value.map((r) => r.digest), [dg('b'), dg('d')]);
    const s = source();
    const shallow = await listReferrers(s.list, parseDigest(dg('a'))!, { depth: 1 });
    assert.deepEqual(shallow.kind === 'found' && shallow.value.length, 2);
    assert.deepEqual(s.asked, [dg('a')]);
    const failed = await listReferrers(source(dg('c')).list, parseDigest(dg('a'))!);
    assert.equal(failed.kind, 'unreachable');
  });
});
