/**
 * Image references as people write them: `alpine`, `alpine:3.19`, `ghcr.io/org/app:1`,
 * `registry.example.com:5000/team/app@sha256:…`. Pure parsing; which upstream a host
 * names is the router's business.
 */
import { parseDigest } from './digest.js';
import { isValidHost, isValidRepository, isValidTag, looksLikeHost } from './names.js';

export interface ImageRef {
  /** The registry host as written, absent when the reference names none. */
  readonly host?: string;
  /** The path as written after the host (no `library/` added). */
  readonly name: string;
  readonly tag?: string;
  readonly digest?: string;
}

export type ParsedRef = { readonly ok: true; readonly ref: ImageRef } | { readonly ok: false; readonly error: string };

/** Splits `[host/]name[:tag][@digest]`; a reference with neither tag nor digest means `latest`. */
export function parseImageRef(text: string): ParsedRef {
  const input = text.trim();
  let rest = input;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at !== -1) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!parseDigest(digest)) return { ok: false, error: `invalid digest in "${input}"` };
  }
  const slash = rest.indexOf('/');
  let host: string | undefined;
  if (slash !== -1 && looksLikeHost(rest.slice(0, slash))) {
    host = rest.slice(0, slash);
    rest = rest.slice(slash + 1);
    if (!isValidHost(host)) return { ok: false, error: `invalid registry host in "${input}"` };
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon !== -1 && !rest.slice(colon).includes('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!isValidTag(tag)) return { ok: false, error: `invalid tag in "${input}"` };
  }
  if (!isValidRepository(rest)) return { ok: false, error: `invalid repository name in "${input}"` };
  if (tag === undefined && digest === undefined) tag = 'latest';
  return { ok: true, ref: { ...(host !== undefined ? { host } : {}), name: rest, ...(tag !== undefined ? { tag } : {}), ...(digest !== undefined ? { digest } : {}) } };
}

/** The tag, else the digest: what a client puts after `/manifests/`. */
export function referenceOf(ref: ImageRef): string {
  return ref.digest ?? ref.tag ?? 'latest';
}

export function formatImageRef(ref: ImageRef): string {
  const base = ref.host !== undefined ? `${ref.host}/${ref.name}` : ref.name;
  return `${base}${ref.tag !== undefined ? `:${ref.tag}` : ''}${ref.digest !== undefined ? `@${ref.digest}` : ''}`;
}
