/**
 * The tag index shared by every node through Redis: one hash per tag (field = accepted types,
 * value = the entry as JSON) that expires tagTtl + maxStale after its last update. A lookup
 * reads the whole hash: another Accept list's answer serves a request that names its type. A local LRU
 * mirrors what this node has seen, for the synchronous reads; `lookup` asks Redis when the
 * local copy is missing or stale, so a tag resolved on one node is fresh on all of them.
 * Resolution is single-flight across the cluster: a node that finds the shared entry missing
 * or stale takes a short lease on it; the others wait (bounded) for its answer.
 */
import type { Redis } from 'ioredis';
import { LRUCache } from 'lru-cache';
import type { Leases, Lease } from './lease.js';
import type { Notifier } from './notifier.js';
import { SingleFlight } from '../util/single-flight.js';
import { answerFor, type TagEntry, type TagIndex, type TagKey } from '../store/tag-index.js';

export interface TagPolicy {
  readonly tagTtlMs: number;
  readonly maxStaleMs: number;
}

export interface RedisTagIndexOptions {
  readonly prefix: string;
  readonly policyOf: (upstream: string) => TagPolicy;
  /** How long a resolving node holds a tag, and how long the others wait for it. */
  readonly resolveLeaseMs: number;
  readonly now?: () => number;
  readonly maxEntries?: number;
  /** How a lookup that missed the shared entry ended. */
  readonly looked?: (result: TagLookupResult) => void;
}

/**
 * resolve: this node took the lease; found: another node's answer was read; notified: it came
 * with the message; gave_up: the resolver failed; timeout: waited out the lease; unavailable: no Redis.
 */
export type TagLookupResult = 'resolve' | 'found' | 'notified' | 'gave_up' | 'timeout' | 'unavailable';

function isEntry(v: unknown): v is TagEntry {
  if (typeof v !== 'object' || v === null) return false;
  const e = v as Record<string, unknown>;
  return typeof e.digest === 'string' && typeof e.mediaType === 'string' && typeof e.size === 'number' && typeof e.fetchedAt === 'number';
}

function parse(text: string | null | undefined): TagEntry | undefined {
  if (!text) return undefined;
  try {
    const v: unknown = JSON.parse(text);
    return isEntry(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

/** How often a waiting node re-reads the shared entry if no message came. */
const RECHECK_MS = 250;

const tagOf = (upstream: string, repository: string, tag: string): string => `${upstream}\n${repository}\n${tag}`;
const localKey = (k: TagKey): string => `${tagOf(k.upstream, k.repository, k.tag)}\n${k.accept}`;

export class RedisTagIndex implements TagIndex {
  private readonly map: LRUCache<string, TagEntry>;
  private readonly resolving = new Map<string, Lease>();
  private readonly lookups = new SingleFlight<TagEntry | undefined>();
  private readonly now: () => number;

  constructor(
    private readonly redis: Redis,
    private readonly leases: Leases,
    private readonly notifier: Notifier,
    private readonly opts: RedisTagIndexOptions,
  ) {
    this.map = new LRUCache<string, TagEntry>({ max: opts.maxEntries ?? 200_000 });
    this.now = opts.now ?? Date.now;
  }

  private hashKey(upstream: string, repository: string, tag: string): string {
    return `${this.opts.prefix}tag:${tagOf(upstream, repository, tag)}`;
  }

  private channel(k: TagKey): string {
    return `${this.opts.prefix}tag:${localKey(k)}`;
  }

  get(key: TagKey): TagEntry | undefined {
    return this.map.get(localKey(key));
  }

  /** Concurrent lookups of one key on this node share one conversation with Redis. */
  lookup(key: TagKey): Promise<TagEntry | undefined> {
    return this.lookups.run(localKey(key), () => this.lookupShared(key)).promise;
  }

  private async lookupShared(key: TagKey): Promise<TagEntry | undefined> {
    const lk = localKey(key);
    const shared = await this.read(key);
    if (shared === 'error') return undefined;
    if (shared && this.fresh(key.upstream, shared)) return shared;
    if (this.resolving.has(lk)) return shared;
    const deadline = this.now() + this.opts.resolveLeaseMs;
    // Subscribed (confirmed) before every read below: a "set" published after a read reaches us.
    const sub = await this.notifier.listen(this.channel(key));
    const ended = (result: TagLookupResult, entry: TagEntry | undefined): TagEntry | undefined => {
      this.opts.looked?.(result);
      return entry;
    };
    try {
      let known = shared;
      for (;;) {
        const got = await this.leases.tryAcquire(`tag:${lk}`, this.opts.resolveLeaseMs);
        if (got.kind === 'unavailable') return ended('unavailable', known);
        // Another node may have resolved the tag and let go of its lease since the first read.
        const now = await this.read(key);
        known = now === 'error' ? known : (now ?? known);
        if (known && this.fresh(key.upstream, known)) {
          if (got.kind === 'acquired') void got.lease.release();
          return ended('found', known);
        }
        if (got.kind === 'acquired') {
          this.hold(lk, got.lease);
          return ended('resolve', known);
        }
        const left = deadline - this.now();
        if (left <= 0) return ended('timeout', known);
        // A lost message costs one poll interval, not the whole lease.
        const message = await sub.next(Math.min(left, RECHECK_MS));
        if (message === undefined) continue;
        const sent = parse(message);
        if (!sent) return ended('gave_up', known);
        this.map.set(lk, sent);
        return ended('notified', sent);
      }
    } finally {
      sub.close();
    }
  }

  set(key: TagKey, entry: TagEntry): void {
    const lk = localKey(key);
    this.map.set(lk, entry);
    const p = this.opts.policyOf(key.upstream);
    const h = this.hashKey(key.upstream, key.repository, key.tag);
    const json = JSON.stringify(entry);
    // One round trip: the waiting nodes get the entry with the message, after it is readable.
    const done = (): void => this.release(lk);
    this.redis
      .multi()
      .hset(h, key.accept, json)
      .pexpire(h, Math.max(1, p.tagTtlMs + p.maxStaleMs))
      .publish(this.channel(key), json)
      .exec()
      .then(done, done);
  }

  abandon(key: TagKey): void {
    const lk = localKey(key);
    if (!this.resolving.has(lk)) return;
    this.release(lk);
    void this.notifier.publish(this.channel(key), 'failed');
  }

  delete(key: TagKey): void {
    this.map.delete(localKey(key));
    const done = (): void => this.abandon(key);
    this.redis.hdel(this.hashKey(key.upstream, key.repository, key.tag), key.accept).then(done, done);
  }

  deleteTag(upstream: string, repository: string, tag: string): void {
    const prefix = `${tagOf(upstream, repository, tag)}\n`;
    for (const k of [...this.map.keys()]) if (k.startsWith(prefix)) this.map.delete(k);
    const done = (): void => {
      for (const lk of [...this.resolving.keys()]) {
        if (!lk.startsWith(prefix)) continue;
        this.release(lk);
        void this.notifier.publish(`${this.opts.prefix}tag:${lk}`, 'deleted');
      }
    };
    this.redis.del(this.hashKey(upstream, repository, tag)).then(done, done);
  }

  size(): number {
    return this.map.size;
  }

  variants(upstream: string, repository: string, tag: string): Array<{ readonly accept: string; readonly entry: TagEntry }> {
    const prefix = `${tagOf(upstream, repository, tag)}\n`;
    const out: Array<{ accept: string; entry: TagEntry }> = [];
    for (const [k, entry] of this.map.entries()) if (k.startsWith(prefix)) out.push({ accept: k.slice(prefix.length), entry });
    return out;
  }

  *entries(): Generator<readonly [TagKey, TagEntry]> {
    for (const [k, e] of this.map.entries()) {
      const [upstream, repository, tag, accept] = k.split('\n');
      if (upstream !== undefined && repository !== undefined && tag !== undefined && accept !== undefined) yield [{ upstream, repository, tag, accept }, e];
    }
  }

  async close(): Promise<void> {
    for (const lk of [...this.resolving.keys()]) this.release(lk);
  }

  private fresh(upstream: string, e: TagEntry): boolean {
    return this.now() - e.fetchedAt < this.opts.policyOf(upstream).tagTtlMs;
  }

  /** Every Accept list's entry of the tag, mirrored locally; the answer for this request's list. */
  private async read(key: TagKey): Promise<TagEntry | undefined | 'error'> {
    let fields: Record<string, string>;
    try {
      fields = await this.redis.hgetall(this.hashKey(key.upstream, key.repository, key.tag));
    } catch {
      return 'error';
    }
    const variants: Array<{ accept: string; entry: TagEntry }> = [];
    for (const [accept, text] of Object.entries(fields)) {
      const entry = parse(text);
      if (!entry) continue;
      variants.push({ accept, entry });
      this.map.set(localKey({ ...key, accept }), entry);
    }
    const exact = variants.find((v) => v.accept === key.accept)?.entry;
    return answerFor(key, exact, variants, (e) => this.fresh(key.upstream, e));
  }

  private hold(lk: string, lease: Lease): void {
    this.resolving.set(lk, lease);
    // The caller's resolution never came back (it threw): the lease must not outlive its TTL here.
    const timer = setTimeout(() => {
      if (this.resolving.get(lk) === lease) this.release(lk);
    }, this.opts.resolveLeaseMs);
    timer.unref();
  }

  private release(lk: string): void {
    const lease = this.resolving.get(lk);
    if (!lease) return;
    this.resolving.delete(lk);
    void lease.release();
  }
}
