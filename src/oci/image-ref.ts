/**
 * Image references as people write them: `alpine`, `alpine:3.19`, `ghcr.io/org/app:1`,
 * `registry.example.com:5000/team/app@sha256:…`. Pure parsing; which upstream a host
 * names is the router's business.
 */
import { parseDigest, type Digest } from './digest.js';
import { isValidHost, isValidRepository, isValidTag, looksLikeHost } from './names.js';

export interface ImageRef {
  /** The registry host as written, absent when the reference names none. */
  readonly host?: string;
  /** The path as written after the host (no `library/` added). */
  readonly name: string;
  readonly tag?: string;
  readonly digest?: Digest;
}

export type ParsedRef = { readonly ok: true; readonly ref: ImageRef } | { readonly ok: false; readonly error: string };

/** The pieces of `[host/]name[:tag][@digest]` as written, before any grammar is checked. */
export interface RefParts {
  readonly host?: string;
  readonly name: string;
  readonly tag?: string;
  readonly digest?: string;
}

/**
 * Docker's split of a reference, checking nothing, so that callers with another grammar for the
 * parts (pins allow globs) split exactly as a pull does. `isHost` decides whether the first path
 * component names a registry.
 */
export function splitImageRef(text: string, isHost: (component: string) => boolean = looksLikeHost): RefParts {
  let rest = text.trim();
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at !== -1) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
  }
  const slash = rest.indexOf('/');
  let host: string | undefined;
  if (slash !== -1 && isHost(rest.slice(0, slash))) {
    host = rest.slice(0, slash);
    rest = rest.slice(slash + 1);
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon !== -1 && !rest.slice(colon).includes('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
  }
  return { ...(host !== undefined ? { host } : {}), name: rest, ...(tag !== undefined ? { tag } : {}), ...(digest !== undefined ? { digest } : {}) };
}

/** Splits and checks `[host/]name[:tag][@digest]`; a reference with neither tag nor digest means `latest`. */
export function parseImageRef(text: string): ParsedRef {
  const input = text.trim();
  const { host, name, tag, ...parts } = splitImageRef(input);
  const digest = parts.digest !== undefined ? parseDigest(parts.digest) : undefined;
  if (parts.digest !== undefined && !digest) return { ok: false, error: `invalid digest in "${input}"` };
  if (host !== undefined && !isValidHost(host)) return { ok: false, error: `invalid registry host in "${input}"` };
  if (tag !== undefined && !isValidTag(tag)) return { ok: false, error: `invalid tag in "${input}"` };
  if (!isValidRepository(name)) return { ok: false, error: `invalid repository name in "${input}"` };
  const ref: ImageRef = { ...(host !== undefined ? { host } : {}), name, ...(tag !== undefined ? { tag } : {}), ...(digest !== undefined ? { digest } : {}) };
  return { ok: true, ref: tag === undefined && digest === undefined ? { ...ref, tag: 'latest' } : ref };
}

/** The tag, else the digest: what a client puts after `/manifests/`. */
export function referenceOf(ref: ImageRef): string {
  return ref.digest?.value ?? ref.tag ?? 'latest';
}

export function formatImageRef(ref: ImageRef): string {
  const base = ref.host !== undefined ? `${ref.host}/${ref.name}` : ref.name;
  return `${base}${ref.tag !== undefined ? `:${ref.tag}` : ''}${ref.digest !== undefined ? `@${ref.digest.value}` : ''}`;
}
