/** Parses an API request path once, at the edge, into a value. Pure: no I/O. */
import { parseDigest, looksLikeDigest, type Digest } from '../oci/digest.js';
import { RegistryError } from '../oci/errors.js';
import { isValidHost, isValidTag } from '../oci/names.js';
import { API_PATHS, isReadMethod } from './route-table.js';

export type Reference = { readonly kind: 'tag'; readonly tag: string } | { readonly kind: 'digest'; readonly digest: Digest };

export type ApiRequest =
  | { readonly kind: 'base' }
  | { readonly kind: 'manifest'; readonly name: string; readonly reference: Reference }
  | { readonly kind: 'blob'; readonly name: string; readonly digest: Digest }
  | { readonly kind: 'tags'; readonly name: string; readonly n?: number; readonly last?: string }
  | { readonly kind: 'referrers'; readonly name: string; readonly digest: Digest; readonly artifactType?: string }
  | { readonly kind: 'upload'; readonly name: string };

export interface ParsedRequest {
  readonly api: ApiRequest;
  /** containerd's `?ns=` registry host, if given. */
  readonly ns?: string;
}

const MAX_PATH = 2048;

function digestOrThrow(raw: string): Digest {
  const d = parseDigest(raw);
  if (!d) throw new RegistryError('DIGEST_INVALID', 'invalid digest', { digest: raw.slice(0, 200) });
  return d;
}

function referenceOf(raw: string): Reference {
  if (looksLikeDigest(raw)) return { kind: 'digest', digest: digestOrThrow(raw) };
  if (!isValidTag(raw)) throw new RegistryError('TAG_INVALID', 'invalid tag', { tag: raw.slice(0, 200) });
  return { kind: 'tag', tag: raw };
}

function checkName(name: string): string {
  // Encoded bytes, empty or dot segments never reach routing: a name is grammar, not a path.
  if (name.includes('%') || name.split('/').some((s) => s === '' || s === '.' || s === '..')) {
    throw new RegistryError('NAME_INVALID', 'invalid repository name');
  }
  return name;
}

function parseQuery(search: URLSearchParams): { ns?: string; n?: number; last?: string; artifactType?: string } {
  const out: { ns?: string; n?: number; last?: string; artifactType?: string } = {};
  const ns = search.get('ns');
  if (ns !== null) {
    if (!isValidHost(ns.toLowerCase())) throw new RegistryError('NAME_INVALID', 'invalid ns parameter');
    out.ns = ns.toLowerCase();
  }
  const n = search.get('n');
  if (n !== null) {
    if (!/^[0-9]{1,6}$/.test(n)) throw new RegistryError('NAME_INVALID', 'invalid n parameter');
    out.n = Number(n);
  }
  const last = search.get('last');
  if (last !== null) out.last = last;
  const at = search.get('artifactType');
  if (at !== null) out.artifactType = at;
  return out;
}

/** `method` decides writes; `path` is the raw request path; `search` the raw query string. */
export function parseRequest(method: string, path: string, search: string): ParsedRequest {
  if (path.length > MAX_PATH) throw new RegistryError('NAME_INVALID', 'request path too long');
  const q = parseQuery(new URLSearchParams(search));
  const ns = q.ns !== undefined ? { ns: q.ns } : {};
  if (path === '/v2/' || path === '/v2') return { api: { kind: 'base' }, ...ns };
  const write = !isReadMethod(method);
  let m = API_PATHS.upload.exec(path);
  if (m) return { api: { kind: 'upload', name: checkName(m[1]!) }, ...ns };
  m = API_PATHS.manifest.exec(path);
  if (m) {
    const name = checkName(m[1]!);
    if (write) return { api: { kind: 'upload', name }, ...ns };
    return { api: { kind: 'manifest', name, reference: referenceOf(m[2]!) }, ...ns };
  }
  m = API_PATHS.blob.exec(path);
  if (m) {
    const name = checkName(m[1]!);
    if (write) return { api: { kind: 'upload', name }, ...ns };
    return { api: { kind: 'blob', name, digest: digestOrThrow(m[2]!) }, ...ns };
  }
  m = API_PATHS.tags.exec(path);
  if (m) {
    const tags: ApiRequest = { kind: 'tags', name: checkName(m[1]!), ...(q.n !== undefined ? { n: q.n } : {}), ...(q.last !== undefined ? { last: q.last } : {}) };
    return { api: tags, ...ns };
  }
  m = API_PATHS.referrers.exec(path);
  if (m) {
    const api: ApiRequest = {
      kind: 'referrers',
      name: checkName(m[1]!),
      digest: digestOrThrow(m[2]!),
      ...(q.artifactType !== undefined ? { artifactType: q.artifactType } : {}),
    };
    return { api, ...ns };
  }
  throw new RegistryError('NOT_FOUND', 'unknown API path');
}
