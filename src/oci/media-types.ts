/** Manifest media types and Accept negotiation. */

export const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const DOCKER_LIST = 'application/vnd.docker.distribution.manifest.list.v2+json';
export const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';

export const KNOWN_MANIFEST_TYPES: readonly string[] = [OCI_INDEX, OCI_MANIFEST, DOCKER_LIST, DOCKER_MANIFEST];

export const INDEX_TYPES: ReadonlySet<string> = new Set([OCI_INDEX, DOCKER_LIST]);

/**
 * The client's Accept header reduced to a canonical, sorted list of media types
 * (parameters and q-values dropped). An empty list means the client named none.
 */
export function parseAccept(headers: string | string[] | undefined): string[] {
  if (headers === undefined) return [];
  const raw = Array.isArray(headers) ? headers.join(',') : headers;
  const types = new Set<string>();
  for (const part of raw.split(',')) {
    const type = part.split(';', 1)[0]!.trim().toLowerCase();
    if (type.length > 0 && type.length < 200) types.add(type);
  }
  return [...types].sort();
}

const WILDCARDS: ReadonlySet<string> = new Set(['*/*', 'application/*']);

/**
 * Whether the client's Accept really chooses between manifest types: it names at least one
 * known manifest type and no wildcard. Anything else (nothing, `*` wildcards, only artifact
 * types) means "whatever the tag is", as registries treat it.
 */
function negotiates(accept: readonly string[]): boolean {
  return accept.some((t) => KNOWN_MANIFEST_TYPES.includes(t)) && !accept.some((t) => WILDCARDS.has(t));
}

/**
 * Whether a manifest of `mediaType` may be handed to a client that sent `accept`. Only a
 * choice among the known manifest types is enforced (an index must not reach a client that
 * cannot read one); a manifest of another type (an artifact) has no alternative to offer.
 */
export function accepts(accept: readonly string[], mediaType: string): boolean {
  if (!negotiates(accept) || accept.includes(mediaType)) return true;
  return !KNOWN_MANIFEST_TYPES.includes(mediaType);
}

/**
 * What to send upstream: the client's types when they choose among manifest types, else
 * every known type too, so an upstream that honours Accept strictly (distribution 2.x answers
 * a bare wildcard with 404 for an OCI manifest) does not turn an unusual Accept into a 404.
 */
export function upstreamAccept(accept: readonly string[]): string {
  if (negotiates(accept)) return accept.join(', ');
  return [...KNOWN_MANIFEST_TYPES, ...accept.filter((t) => !KNOWN_MANIFEST_TYPES.includes(t))].join(', ');
}

/** Media type of manifest bytes when no header says it: the JSON `mediaType` field or OCI structure. */
export function sniffManifestType(bytes: Uint8Array): string | undefined {
  try {
    const doc: unknown = JSON.parse(Buffer.from(bytes).toString('utf8'));
    if (typeof doc !== 'object' || doc === null) return undefined;
    const obj = doc as Record<string, unknown>;
    if (typeof obj.mediaType === 'string') return obj.mediaType;
    if (Array.isArray(obj.manifests)) return OCI_INDEX;
    if (obj.config !== undefined) return OCI_MANIFEST;
    return undefined;
  } catch {
    return undefined;
  }
}
