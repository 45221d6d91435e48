/**
 * OCI 1.1 referrers vocabulary, pure: the tag-schema fallback tag, parsing a referrers index,
 * `artifactType` filtering and the empty answer. No I/O.
 */
import type { Digest } from './digest.js';
import { OCI_INDEX } from './media-types.js';

export interface ReferrerDescriptor {
  readonly mediaType: string;
  readonly digest: string;
  readonly size: number;
  readonly artifactType?: string;
  readonly annotations?: Readonly<Record<string, string>>;
}

/** A referrers index as parsed from bytes; the document is kept to re-serialise its other fields. */
export interface ReferrersIndex {
  readonly manifests: readonly ReferrerDescriptor[];
  readonly doc: Readonly<Record<string, unknown>>;
}

export const FILTERS_APPLIED_HEADER = 'oci-filters-applied';

/**
 * The tag under which clients without the referrers API keep a subject's referrers
 * (distribution-spec "referrers tag schema"): `<alg>-<hex>`, alg cut to 32 and hex to 64
 * characters so that a sha512 subject still yields a valid tag.
 */
export function fallbackTag(subject: Digest): string {
  return `${subject.algorithm.slice(0, 32)}-${subject.hex.slice(0, 64)}`;
}

export function emptyReferrersIndex(): Buffer {
  return Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [] }));
}

function isDescriptor(v: unknown): v is ReferrerDescriptor {
  if (typeof v !== 'object' || v === null) return false;
  const d = v as Record<string, unknown>;
  return typeof d.mediaType === 'string' && typeof d.digest === 'string' && typeof d.size === 'number'
    && (d.artifactType === undefined || typeof d.artifactType === 'string');
}

/** An OCI index with a `manifests` array of descriptors, else undefined (not a referrers answer). */
export function parseReferrersIndex(bytes: Uint8Array): ReferrersIndex | undefined {
  let doc: unknown;
  try {
    doc = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) return undefined;
  const obj = doc as Record<string, unknown>;
  if (!Array.isArray(obj.manifests) || !obj.manifests.every(isDescriptor)) return undefined;
  if (obj.mediaType !== undefined && obj.mediaType !== OCI_INDEX) return undefined;
  return { manifests: obj.manifests, doc: obj };
}

/**
 * The answer for one request: the index unchanged when no filter is asked, else the same
 * document with only the descriptors of that artifactType (and `filtered` for the header).
 */
export function referrersAnswer(bytes: Buffer, artifactType: string | undefined): { bytes: Buffer; filtered: boolean } {
  if (artifactType === undefined) return { bytes, filtered: false };
  const index = parseReferrersIndex(bytes);
  if (!index) return { bytes: emptyReferrersIndex(), filtered: true };
  const manifests = index.manifests.filter((d) => d.artifactType === artifactType);
  const doc = { schemaVersion: 2, mediaType: OCI_INDEX, ...index.doc, manifests };
  return { bytes: Buffer.from(JSON.stringify(doc)), filtered: true };
}

/**
 * The next page of a paginated referrers answer, from its `Link: <url>; rel="next"` header, as
 * a path relative to `/v2/<repository>/` (the form the upstream client takes). Undefined when
 * there is no next page or the link points outside this repository's referrers.
 */
export function nextReferrersPage(link: string | undefined, repository: string): string | undefined {
  if (!link) return undefined;
  const m = /<([^>]+)>\s*;[^,]*rel="?next"?/i.exec(link);
  if (!m) return undefined;
  let url: URL;
  try {
    url = new URL(m[1]!, 'http://upstream.invalid');
  } catch {
    return undefined;
  }
  const marker = `/v2/${repository}/`;
  const at = url.pathname.indexOf(marker);
  if (at === -1) return undefined;
  const rest = url.pathname.slice(at + marker.length);
  if (!rest.startsWith('referrers/')) return undefined;
  return rest + url.search;
}

/** Pages of one referrers answer joined into one index (the first page's other fields kept). */
export function mergeReferrersPages(pages: readonly ReferrersIndex[]): Buffer {
  const first = pages[0]?.doc ?? {};
  const manifests = pages.flatMap((p) => p.manifests);
  return Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, ...first, manifests }));
}
