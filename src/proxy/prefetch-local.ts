/**
 * An ImageSource inside the daemon (scheduled prefetch, pin refresh): the same pull-through
 * services a client request uses, so fills are shared with clients. Tags are revalidated
 * upstream first; the cached answer is used when the upstream cannot answer.
 */
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { parseDigest, type Digest } from '../oci/digest.js';
import { KNOWN_MANIFEST_TYPES } from '../oci/media-types.js';
import { causeOfError, unreachable } from '../upstream/error-cause.js';
import type { Router } from '../upstream/router.js';
import type { Outcome, Upstream } from '../upstream/types.js';
import type { PullThroughBlobs } from './blobs.js';
import type { PullThroughManifests } from './manifests.js';
import type { FetchedManifest, ImageSource, PrefetchTarget } from './prefetch.js';

const ACCEPT = [...KNOWN_MANIFEST_TYPES].sort();

export interface LocalSourceDeps {
  readonly router: Router;
  readonly manifests: PullThroughManifests;
  readonly blobs: PullThroughBlobs;
  /** A cached blob counts as used (LRU order). */
  readonly touch: (digest: string) => void;
}

type Routed = { kind: 'found'; value: { upstream: Upstream; repository: string } } | { kind: 'absent' };

export class LocalSource implements ImageSource {
  constructor(private readonly deps: LocalSourceDeps) {}

  async manifest(t: PrefetchTarget, reference: string): Promise<Outcome<FetchedManifest>> {
    const r = this.route(t);
    if (r.kind !== 'found') return r;
    const { upstream, repository } = r.value;
    let digest: Digest | undefined = parseDigest(reference);
    if (!digest) {
      const fresh = await this.deps.manifests.refresh(upstream, repository, reference, ACCEPT);
      if (fresh.kind === 'absent') return fresh;
      let value = fresh.kind === 'found' ? fresh.value.digest : undefined;
      if (value === undefined) {
        const cached = await this.deps.manifests.tag(upstream, repository, reference, ACCEPT);
        if (cached.kind !== 'found') return cached;
        value = cached.value.entry.digest;
      }
      digest = parseDigest(value);
      if (!digest) return unreachable('invalid', 'invalid digest');
    }
    const m = await this.deps.manifests.manifest(upstream, repository, digest);
    if (m.kind !== 'found') return m;
    const man = m.value.manifest;
    return { kind: 'found', value: { bytes: man.bytes, mediaType: man.mediaType, digest } };
  }

  async blob(t: PrefetchTarget, digest: Digest, _size: number, onBytes: (n: number) => void): Promise<Outcome<{ readonly cached: boolean }>> {
    const r = this.route(t);
    if (r.kind !== 'found') return r;
    const got = await this.deps.blobs.open(r.value.upstream, r.value.repository, digest);
    if (got.kind !== 'found') return got;
    if (got.value.cache === 'HIT') {
      got.value.discard?.();
      this.deps.touch(digest.value);
      return { kind: 'found', value: { cached: true } };
    }
    // The fill belongs to no client; reading it to the end waits for the verified commit.
    const sink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        onBytes(chunk.length);
        cb();
      },
    });
    try {
      await pipeline(await got.value.open(), sink);
    } catch (err) {
      return { kind: 'unreachable', cause: causeOfError(err) };
    }
    return { kind: 'found', value: { cached: false } };
  }

  private route(t: PrefetchTarget): Routed {
    const r = this.deps.router.route(t.name, t.ns);
    return r.kind === 'ok' ? { kind: 'found', value: { upstream: r.upstream, repository: r.repository } } : { kind: 'absent' };
  }
}
