/**
 * Pull-through referrers (OCI 1.1). The answer comes from the upstream's referrers API, or,
 * when the upstream has none (404), from the tag-schema fallback tag `sha256-<hex>` fetched
 * through the normal tag path, or is an empty index. Whatever the source, the answer is kept
 * content-addressed in the manifest store and remembered in the tag index under the subject
 * digest (a key no real tag can have), so it is fresh for the upstream's tagTtl, served stale
 * when the upstream fails, and survives a restart like a tag.
 */
import type { UpstreamConfig } from '../config/types.js';
import { digestOf, parseDigest, type Digest } from '../oci/digest.js';
import { OCI_INDEX } from '../oci/media-types.js';
import { emptyReferrersIndex, fallbackTag, mergeReferrersPages, nextReferrersPage, parseReferrersIndex, type ReferrersIndex } from '../oci/referrers.js';
import type { ManifestStore } from '../store/manifest-store.js';
import type { TagEntry, TagIndex, TagKey } from '../store/tag-index.js';
import { causeOf, unreachable } from '../upstream/error-cause.js';
import type { Outcome, Upstream } from '../upstream/types.js';
import { SingleFlight } from '../util/single-flight.js';
import type { CacheStatus } from './blob-source.js';
import type { PullThroughManifests } from './manifests.js';

/** Upper bound on followed `Link: rel="next"` pages; a longer list is served truncated. */
const MAX_PAGES = 16;
/** The tag-index "accept" slot of referrers answers; the key's tag is the subject digest. */
const REFERRERS_SLOT = 'referrers';

const keyOf = (upstream: string, repository: string, subject: string): TagKey => ({ upstream, repository, tag: subject, accept: REFERRERS_SLOT });

/**
 * The referrers list berth last fetched for a subject, read from the tag index and store alone
 * (offline, any age), for `berth export --with-referrers`. Undefined: never fetched.
 */
export async function cachedReferrers(tags: TagIndex, store: ManifestStore, upstream: string, repository: string, subject: Digest): Promise<Buffer | undefined> {
  const entry = tags.get(keyOf(upstream, repository, subject.value));
  const digest = entry ? parseDigest(entry.digest) : undefined;
  return digest ? (await store.get(digest))?.bytes : undefined;
}

export interface ReferrersAnswer {
  /** The whole (unfiltered) referrers index. */
  readonly bytes: Buffer;
  readonly cache: CacheStatus;
}

export interface ReferrersEvents {
  cache(result: 'hit' | 'miss' | 'stale' | 'coalesced'): void;
  stale(upstream: string, reason: 'revalidating' | 'upstream_error' | 'ratelimited' | 'offline'): void;
  storeError(err: unknown): void;
}

interface Cached {
  readonly entry: TagEntry;
  readonly bytes: Buffer;
}

/** A fetched list and the time its content was current upstream. */
interface Listed {
  readonly bytes: Buffer;
  readonly fetchedAt: number;
}

export class PullThroughReferrers {
  private readonly flights = new SingleFlight<Outcome<Buffer>>();

  constructor(
    private readonly manifests: PullThroughManifests,
    private readonly store: ManifestStore,
    private readonly tags: TagIndex,
    private readonly policyOf: (upstream: string) => UpstreamConfig,
    private readonly events: ReferrersEvents,
    private readonly now: () => number = Date.now,
  ) {}

  async list(upstream: Upstream, repository: string, subject: Digest): Promise<Outcome<ReferrersAnswer>> {
    const key = keyOf(upstream.name, repository, subject.value);
    const policy = this.policyOf(upstream.name);
    const cached = await this.cached(key);
    if (cached && this.now() - cached.entry.fetchedAt < policy.tagTtlMs) {
      this.events.cache('hit');
      return { kind: 'found', value: { bytes: cached.bytes, cache: 'HIT' } };
    }
    const flight = this.flights.run(`${upstream.name}\n${repository}\n${subject.value}`, () => this.refresh(upstream, repository, subject, key));
    const servable = cached && this.now() - cached.entry.fetchedAt < policy.tagTtlMs + policy.maxStaleMs ? cached : undefined;
    if (servable && policy.revalidate === 'background') {
      void flight.promise.catch(() => undefined);
      this.events.cache('stale');
      this.events.stale(upstream.name, 'revalidating');
      return { kind: 'found', value: { bytes: servable.bytes, cache: 'STALE' } };
    }
    const got = await flight.promise;
    if (got.kind === 'found') {
      this.events.cache(flight.joined ? 'coalesced' : 'miss');
      return { kind: 'found', value: { bytes: got.value, cache: flight.joined ? 'COALESCED' : 'MISS' } };
    }
    // Stale-if-error as for tags: never after a real answer, only when the upstream failed.
    if (servable && (got.kind === 'unreachable' || got.kind === 'ratelimited')) {
      this.events.cache('stale');
      const reason = got.kind === 'ratelimited' ? 'ratelimited' : got.cause.kind === 'offline' ? 'offline' : 'upstream_error';
      this.events.stale(upstream.name, reason);
      return { kind: 'found', value: { bytes: servable.bytes, cache: 'STALE' } };
    }
    return got;
  }

  /** The remembered answer, if its bytes are still in the store (eviction may have taken them). */
  private async cached(key: TagKey): Promise<Cached | undefined> {
    const entry = this.tags.get(key);
    const digest = entry ? parseDigest(entry.digest) : undefined;
    if (!entry || !digest) return undefined;
    const m = await this.store.get(digest);
    return m ? { entry, bytes: m.bytes } : undefined;
  }

  private async refresh(upstream: Upstream, repository: string, subject: Digest, key: TagKey): Promise<Outcome<Buffer>> {
    const api = await this.fromApi(upstream, repository, subject);
    // 404 on the endpoint is how a registry without the referrers API answers.
    const got: Outcome<Listed> = api.kind === 'found' ? { kind: 'found', value: { bytes: api.value, fetchedAt: this.now() } }
      : api.kind === 'absent' ? await this.fromFallbackTag(upstream, repository, subject) : api;
    if (got.kind !== 'found') return got;
    const { bytes, fetchedAt } = got.value;
    const digest = digestOf(bytes);
    try {
      // The same list (often the empty one) is written once: a rewrite would count its bytes twice.
      if (!(await this.store.get(digest))) await this.store.put(digest, bytes, OCI_INDEX);
      this.tags.set(key, { digest: digest.value, mediaType: OCI_INDEX, size: bytes.length, fetchedAt });
    } catch (err) {
      // A store that cannot write still answers; the list is just not remembered.
      this.events.storeError(err);
    }
    return { kind: 'found', value: bytes };
  }

  /** The upstream's referrers API, every page followed; the filter is applied locally, so unfiltered. */
  private async fromApi(upstream: Upstream, repository: string, subject: Digest): Promise<Outcome<Buffer>> {
    const pages: ReferrersIndex[] = [];
    let path: string | undefined = `referrers/${subject.value}`;
    let firstBytes: Buffer | undefined;
    while (path !== undefined && pages.length < MAX_PAGES) {
      const got = await upstream.getJson(repository, path, OCI_INDEX);
      if (got.kind !== 'found') return pages.length === 0 ? got : { kind: 'unreachable', cause: got.kind === 'absent' ? causeOf('invalid', 'a later referrers page is missing', upstream) : got.cause };
      const index = parseReferrersIndex(got.value.bytes);
      if (!index) return unreachable('invalid', 'upstream referrers answer is not an OCI index', upstream);
      firstBytes ??= got.value.bytes;
      pages.push(index);
      path = nextReferrersPage(got.value.headers.link, repository);
    }
    // One page is kept byte for byte; several are joined.
    return { kind: 'found', value: pages.length === 1 && firstBytes ? firstBytes : mergeReferrersPages(pages) };
  }

  /**
   * The tag-schema fallback through the normal tag and manifest path (cached, stale-if-error).
   * The list is only as fresh as the tag entry it came from: a tag served stale while it
   * revalidates must not make an old list look fresh for another TTL.
   */
  private async fromFallbackTag(upstream: Upstream, repository: string, subject: Digest): Promise<Outcome<Listed>> {
    const empty: Outcome<Listed> = { kind: 'found', value: { bytes: emptyReferrersIndex(), fetchedAt: this.now() } };
    const tag = await this.manifests.tag(upstream, repository, fallbackTag(subject), [OCI_INDEX]);
    if (tag.kind === 'absent') return empty;
    if (tag.kind !== 'found') return tag;
    const digest = parseDigest(tag.value.entry.digest);
    if (!digest) return unreachable('invalid', 'upstream gave an invalid digest', upstream);
    const m = await this.manifests.manifest(upstream, repository, digest);
    if (m.kind === 'absent') return empty;
    if (m.kind !== 'found') return m;
    // A tag of that name that is not an index lists no referrers.
    const bytes = m.value.manifest.bytes;
    if (!parseReferrersIndex(bytes)) return empty;
    return { kind: 'found', value: { bytes, fetchedAt: Math.min(this.now(), tag.value.entry.fetchedAt) } };
  }
}

