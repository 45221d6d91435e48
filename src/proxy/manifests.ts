/**
 * Pull-through manifests and tags. Manifests by digest are fetched once, verified and kept;
 * tags resolve upstream with HEAD (free on Docker Hub's quota) and are cached for the
 * upstream's TTL, served stale while revalidating and when the upstream fails, never after
 * the upstream said 404.
 */
import { LRUCache } from 'lru-cache';
import type { UpstreamConfig } from '../config/types.js';
import { digestOf, parseDigest, type Digest } from '../oci/digest.js';
import { KNOWN_MANIFEST_TYPES, accepts, sniffManifestType, upstreamAccept } from '../oci/media-types.js';
import type { ManifestStore, StoredManifest } from '../store/manifest-store.js';
import { answerFor, type TagEntry, type TagIndex, type TagKey } from '../store/tag-index.js';
import { unreachable } from '../upstream/error-cause.js';
import type { Failure, Outcome, Upstream } from '../upstream/types.js';
import { SingleFlight } from '../util/single-flight.js';
import type { CacheStatus } from './blob-source.js';
import type { FillClaim } from './fill/fill.js';

export interface TagAnswer {
  readonly entry: TagEntry;
  readonly cache: CacheStatus;
}

export interface ManifestAnswer {
  readonly manifest: StoredManifest;
  readonly cache: CacheStatus;
}

export interface ManifestEvents {
  cache(kind: 'tag' | 'manifest', result: 'hit' | 'miss' | 'stale' | 'coalesced'): void;
  stale(upstream: string, reason: 'revalidating' | 'upstream_error' | 'ratelimited' | 'offline' | 'quota_floor'): void;
  storeError(err: unknown): void;
}

type Resolved = Outcome<TagEntry>;

/** The tag index key, the negative-cache key (any accept) and the single-flight key of a tag request. */
function keysOf(upstream: Upstream, repository: string, tag: string, accept: readonly string[]): { key: TagKey; negKey: string; flightKey: string } {
  const key: TagKey = { upstream: upstream.name, repository, tag, accept: accept.join(',') };
  const negKey = `${key.upstream}\n${repository}\n${tag}`;
  return { key, negKey, flightKey: `${negKey}\n${key.accept}` };
}

export class PullThroughManifests {
  private readonly tagFlights = new SingleFlight<Resolved>();
  private readonly manifestFlights = new SingleFlight<Outcome<StoredManifest>>();
  private readonly negative = new LRUCache<string, true>({ max: 50_000, ttlAutopurge: false });

  constructor(
    private readonly manifests: ManifestStore,
    private readonly tags: TagIndex,
    private readonly policyOf: (upstream: string) => UpstreamConfig,
    private readonly events: ManifestEvents,
    private readonly now: () => number = Date.now,
    /** Several workers: one fetch of a manifest across them (the same seam as blob fills). */
    private readonly claim?: (digest: Digest) => Promise<FillClaim>,
  ) {}

  async tag(upstream: Upstream, repository: string, tag: string, accept: readonly string[]): Promise<Outcome<TagAnswer>> {
    const { key, negKey, flightKey } = keysOf(upstream, repository, tag, accept);
    const policy = this.policyOf(upstream.name);
    const fresh = (e: TagEntry | undefined): e is TagEntry => e !== undefined && this.now() - e.fetchedAt < policy.tagTtlMs;
    let cached = this.cachedAnswer(key, fresh);
    // Several nodes: another one may have resolved the tag since this node last saw it.
    if (this.tags.lookup && !fresh(cached)) {
      const shared = await this.tags.lookup(key);
      // This node's own resolution may have finished while the lookup was out (its flight is
      // gone by now): read the local answer again, or a second flight would go upstream.
      const local = this.cachedAnswer(key, fresh);
      cached = fresh(local) ? local : (shared ?? cached);
    }
    if (fresh(cached)) {
      this.events.cache('tag', 'hit');
      return { kind: 'found', value: { entry: cached, cache: 'HIT' } };
    }
    if (!cached && this.negative.get(negKey)) return { kind: 'absent' };
    // Below the upstream's quota floor a tag within maxStale is served as it is, not revalidated.
    if (cached && this.withinMaxStale(cached, policy) && upstream.belowQuotaFloor?.() === true) {
      this.events.cache('tag', 'stale');
      this.events.stale(upstream.name, 'quota_floor');
      return { kind: 'found', value: { entry: cached, cache: 'STALE' } };
    }
    const flight = this.tagFlights.run(flightKey, () => this.resolve(upstream, key, negKey, policy));
    if (cached && policy.revalidate === 'background' && this.withinMaxStale(cached, policy)) {
      void flight.promise.catch(() => undefined);
      this.events.cache('tag', 'stale');
      this.events.stale(upstream.name, 'revalidating');
      return { kind: 'found', value: { entry: cached, cache: 'STALE' } };
    }
    const resolved = await flight.promise;
    if (resolved.kind === 'found') {
      this.events.cache('tag', flight.joined ? 'coalesced' : 'miss');
      return { kind: 'found', value: { entry: resolved.value, cache: flight.joined ? 'COALESCED' : 'MISS' } };
    }
    // Another client's accept-variant of the tag will do when the upstream cannot answer
    // (an imported bundle, an offline restart), as long as this client accepts its type.
    const fallback = cached ?? this.acceptedVariant(key, accept);
    if (fallback && this.withinMaxStale(fallback, policy) && (resolved.kind === 'unreachable' || resolved.kind === 'ratelimited')) {
      this.events.cache('tag', 'stale');
      this.events.stale(upstream.name, resolved.kind === 'ratelimited' ? 'ratelimited' : resolved.kind === 'unreachable' && resolved.cause.kind === 'offline' ? 'offline' : 'upstream_error');
      return { kind: 'found', value: { entry: fallback, cache: 'STALE' } };
    }
    return resolved;
  }

  /** Resolves a tag upstream now, whatever the age of its cached answer (pins, prefetch). */
  async refresh(upstream: Upstream, repository: string, tag: string, accept: readonly string[]): Promise<Outcome<TagEntry>> {
    const { key, negKey, flightKey } = keysOf(upstream, repository, tag, accept);
    return this.tagFlights.run(flightKey, () => this.resolve(upstream, key, negKey, this.policyOf(upstream.name))).promise;
  }

  /** Only an exact miss looks at the tag's other Accept lists. */
  private cachedAnswer(key: TagKey, fresh: (e: TagEntry) => boolean): TagEntry | undefined {
    const exact = this.tags.get(key);
    if (exact && fresh(exact)) return exact;
    return answerFor(key, exact, this.tags.variants(key.upstream, key.repository, key.tag), fresh);
  }

  private acceptedVariant(key: TagKey, accept: readonly string[]): TagEntry | undefined {
    let best: TagEntry | undefined;
    for (const v of this.tags.variants(key.upstream, key.repository, key.tag)) {
      if (accepts(accept, v.entry.mediaType) && (!best || v.entry.fetchedAt > best.fetchedAt)) best = v.entry;
    }
    return best;
  }

  /** The manifest by digest: from the store, else fetched once from upstream and verified. */
  async manifest(upstream: Upstream, repository: string, digest: Digest): Promise<Outcome<ManifestAnswer>> {
    const local = await this.manifests.get(digest);
    if (local) {
      this.events.cache('manifest', 'hit');
      return { kind: 'found', value: { manifest: local, cache: 'HIT' } };
    }
    const flight = this.manifestFlights.run(digest.value, () => this.fetchClaimed(upstream, repository, digest));
    const got = await flight.promise;
    if (got.kind !== 'found') return got;
    this.events.cache('manifest', flight.joined ? 'coalesced' : 'miss');
    return { kind: 'found', value: { manifest: got.value, cache: flight.joined ? 'COALESCED' : 'MISS' } };
  }

  /** A stored manifest only, for HEAD by digest without fetching. */
  async local(digest: Digest): Promise<StoredManifest | undefined> {
    return this.manifests.get(digest);
  }

  private withinMaxStale(entry: TagEntry, policy: UpstreamConfig): boolean {
    return this.now() - entry.fetchedAt < policy.tagTtlMs + policy.maxStaleMs;
  }

  private async resolve(upstream: Upstream, key: TagKey, negKey: string, policy: UpstreamConfig): Promise<Resolved> {
    const accept = upstreamAccept(key.accept ? key.accept.split(',') : []);
    const head = await upstream.headManifest(key.repository, key.tag, accept);
    let entry: TagEntry | undefined;
    if (head.kind === 'found' && head.value.digest && parseDigest(head.value.digest) && head.value.size >= 0) {
      entry = { digest: head.value.digest, mediaType: head.value.mediaType || 'application/octet-stream', size: head.value.size, fetchedAt: this.now() };
    } else if (head.kind === 'found') {
      // Some registries give no digest on HEAD: GET by tag and hash the bytes ourselves.
      const got = await upstream.getManifest(key.repository, key.tag, accept);
      if (got.kind !== 'found') return this.afterFailure(got, key, negKey, policy);
      const digest = digestOf(got.value.bytes);
      const mediaType = got.value.mediaType || sniffManifestType(got.value.bytes) || 'application/octet-stream';
      const stored = await this.storeManifest(digest, got.value.bytes, mediaType);
      entry = { digest: stored.digest.value, mediaType, size: got.value.bytes.length, fetchedAt: this.now() };
    } else {
      return this.afterFailure(head, key, negKey, policy);
    }
    this.tags.set(key, entry);
    this.negative.delete(negKey);
    return { kind: 'found', value: entry };
  }

  private afterFailure(f: Failure, key: TagKey, negKey: string, policy: UpstreamConfig): Resolved {
    if (f.kind === 'absent') {
      this.tags.deleteTag(key.upstream, key.repository, key.tag);
      if (policy.negativeTtlMs > 0) this.negative.set(negKey, true, { ttl: policy.negativeTtlMs });
    } else {
      this.tags.abandon?.(key);
    }
    return f;
  }

  private async fetchClaimed(upstream: Upstream, repository: string, digest: Digest): Promise<Outcome<StoredManifest>> {
    const claim = await this.claim?.(digest);
    if (claim?.kind === 'stored') {
      const stored = await this.manifests.get(digest);
      if (stored) return { kind: 'found', value: stored };
    }
    let fetched = false;
    try {
      const got = await this.fetchByDigest(upstream, repository, digest);
      fetched = got.kind === 'found';
      return got;
    } finally {
      if (claim?.kind === 'owner') await claim.release(fetched);
    }
  }

  private async fetchByDigest(upstream: Upstream, repository: string, digest: Digest): Promise<Outcome<StoredManifest>> {
    const got = await upstream.getManifest(repository, digest.value, KNOWN_MANIFEST_TYPES.join(', ') + ', */*');
    if (got.kind !== 'found') return got;
    if (digestOf(got.value.bytes, digest.algorithm).value !== digest.value) return unreachable('invalid', `upstream manifest does not match its digest ${digest.value}`, upstream);
    const mediaType = got.value.mediaType || sniffManifestType(got.value.bytes) || 'application/octet-stream';
    return { kind: 'found', value: await this.storeManifest(digest, got.value.bytes, mediaType) };
  }

  /** A store that cannot write still answers: the verified bytes are served uncached. */
  private async storeManifest(digest: Digest, bytes: Buffer, mediaType: string): Promise<StoredManifest> {
    try {
      return await this.manifests.put(digest, bytes, mediaType);
    } catch (err) {
      this.events.storeError(err);
      return { bytes, mediaType, digest };
    }
  }
}
