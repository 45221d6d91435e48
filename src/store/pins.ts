/**
 * Pins: image references or glob patterns (`docker.io/library/node:20*`, `ghcr.io/org/*`,
 * `alpine@sha256:…`) whose content is never evicted. A pinned tag protects what the tag index
 * says it resolves to, and everything below: child manifests, configs and layers.
 */
import picomatch from 'picomatch';
import { parseDigest, type Digest } from '../oci/digest.js';
import { splitImageRef } from '../oci/image-ref.js';
import { canonicalRepository, looksLikeHost } from '../oci/names.js';
import { closureOf, type ManifestReader } from './closure.js';
import type { TagEntry, TagKey } from './tag-index.js';

export interface PinRule {
  readonly text: string;
  readonly upstream: string;
  /** Repository or glob over repositories. */
  readonly repository: string;
  /** Tag or glob over tags; undefined for a digest pin. */
  readonly tag?: string;
  readonly digest?: Digest;
  /** True when `repository` and `tag` are literal (one image to refresh). */
  readonly literal: boolean;
}

export interface PinNaming {
  readonly defaultUpstream: string;
  /** Upstream name for a host or alias; undefined when no upstream is configured for it. */
  readonly upstreamOf: (host: string) => string | undefined;
}

const GLOB = /[*?[\]{}!]/;

/** Normalises one pattern like the router normalises names; an error message when it cannot. */
export function parsePin(text: string, naming: PinNaming): PinRule | string {
  if (text.trim() === '') return 'empty pin';
  const parts = splitImageRef(text, (c) => looksLikeHost(c) && !GLOB.test(c));
  const { host } = parts;
  const digest = parts.digest !== undefined ? parseDigest(parts.digest) : undefined;
  if (parts.digest !== undefined && !digest) return `pin "${text}": invalid digest`;
  let upstream = naming.defaultUpstream;
  if (host !== undefined) {
    const name = naming.upstreamOf(host);
    if (name === undefined) return `pin "${text}": no upstream is configured for ${host}`;
    upstream = name;
  }
  if (parts.name === '') return `pin "${text}": no repository`;
  const repository = canonicalRepository(upstream, parts.name);
  const tag = digest === undefined ? (parts.tag ?? (GLOB.test(repository) ? '*' : 'latest')) : undefined;
  const literal = digest === undefined && !GLOB.test(repository) && !GLOB.test(tag ?? '');
  return { text, upstream, repository, ...(tag !== undefined ? { tag } : {}), ...(digest !== undefined ? { digest } : {}), literal };
}

/** Every pattern of the config; throws naming the first bad one (a startup error). */
export function parsePins(texts: readonly string[], naming: PinNaming): PinRule[] {
  return texts.map((text) => {
    const rule = parsePin(text, naming);
    if (typeof rule === 'string') throw new Error(`pins: ${rule}`);
    return rule;
  });
}

export interface PinSources {
  /** Every cached tag answer. */
  readonly tags: () => Iterable<readonly [TagKey, TagEntry]>;
  readonly readManifest: ManifestReader;
}

export class Pins {
  private readonly tagMatchers: Array<(s: string) => boolean>;
  private readonly digestRoots: Digest[];

  constructor(
    readonly rules: readonly PinRule[],
    private readonly sources: PinSources,
  ) {
    this.tagMatchers = rules.filter((r) => r.tag !== undefined).map((r) => picomatch(`${r.upstream}/${r.repository}:${r.tag}`, { dot: true }));
    this.digestRoots = rules.flatMap((r) => (r.digest !== undefined ? [r.digest] : []));
  }

  get empty(): boolean {
    return this.rules.length === 0;
  }

  isPinnedTag(upstream: string, repository: string, tag: string): boolean {
    const s = `${upstream}/${repository}:${tag}`;
    return this.tagMatchers.some((m) => m(s));
  }

  /** The digests of pinned tags and digests and everything they reference. */
  async protectedDigests(): Promise<Set<string>> {
    if (this.empty) return new Set();
    const roots = [...this.digestRoots];
    for (const [k, e] of this.sources.tags()) {
      const digest = this.isPinnedTag(k.upstream, k.repository, k.tag) ? parseDigest(e.digest) : undefined;
      if (digest) roots.push(digest);
    }
    return closureOf(roots, this.sources.readManifest);
  }
}
