/**
 * The walk behind `berth prefetch --with-referrers` and `berth export --with-referrers`: every
 * referrer of a subject, and referrers of those (a signature of an SBOM), each list read
 * through whatever source the caller has (the pull-through cache in process, or a berth URL).
 */
import { parseDigest, type Digest } from '../oci/digest.js';
import { parseReferrersIndex, type ReferrerDescriptor } from '../oci/referrers.js';
import type { Outcome } from '../upstream/types.js';

/** One subject's referrers index, e.g. `(d) => referrers.list(upstream, repository, d)`. */
export type ReferrersSource = (subject: Digest) => Promise<Outcome<{ readonly bytes: Buffer }>>;

/** A referrer found by `listReferrers`, with the subject it refers to. */
export interface FoundReferrer extends ReferrerDescriptor {
  readonly subject: string;
}

export interface ListReferrersOptions {
  /** Only referrers of this artifactType are returned (all are still walked). */
  readonly artifactType?: string;
  /** Levels of referrers of referrers to follow; default 3. */
  readonly depth?: number;
  /** Stop after this many referrers; default 1000. */
  readonly max?: number;
}

/**
 * Every referrer of `subject`, breadth first, each once (cycles end). The caller pulls each
 * returned digest as a manifest, with its blobs, to carry signatures and SBOMs along. A list
 * that cannot be read fails the whole walk: a silently partial export would lose signatures.
 */
export async function listReferrers(source: ReferrersSource, subject: Digest, opts: ListReferrersOptions = {}): Promise<Outcome<FoundReferrer[]>> {
  const depth = opts.depth ?? 3;
  const max = opts.max ?? 1000;
  const found: FoundReferrer[] = [];
  const seen = new Set<string>([subject.value]);
  let level: Digest[] = [subject];
  for (let d = 0; d < depth && level.length > 0; d++) {
    const next: Digest[] = [];
    for (const s of level) {
      const got = await source(s);
      if (got.kind !== 'found') return got;
      for (const desc of parseReferrersIndex(got.value.bytes)?.manifests ?? []) {
        const digest = parseDigest(desc.digest);
        if (!digest || seen.has(digest.value) || seen.size > max) continue;
        seen.add(digest.value);
        next.push(digest);
        if (opts.artifactType === undefined || desc.artifactType === opts.artifactType) found.push({ ...desc, subject: s.value });
      }
    }
    level = next;
  }
  return { kind: 'found', value: found };
}
