/**
 * The shared ledger of a bounded bucket, in Redis: the bytes each digest holds (a hash and
 * their total), the order of use (a sorted set by last use), the digests each node is reading
 * or filling (a set per node, kept alive by a heartbeat, so a dead node's holds lapse), and
 * the eviction lease.
 */
import type { Redis } from 'ioredis';
import type { EvictionLedger } from '../store/cap/bucket-evictor.js';
import type { Leases } from './lease.js';

// KEYS: sizes, recency, bytes. ARGV: digest, size, time, 'NX' to keep an older use time.
const ADD = `if redis.call('hsetnx', KEYS[1], ARGV[1], ARGV[2]) == 1 then redis.call('incrby', KEYS[3], ARGV[2]) end
if ARGV[4] == 'NX' then redis.call('zadd', KEYS[2], 'NX', ARGV[3], ARGV[1]) else redis.call('zadd', KEYS[2], ARGV[3], ARGV[1]) end
return 1`;
const FORGET = `local s = redis.call('hget', KEYS[1], ARGV[1])
if s then redis.call('hdel', KEYS[1], ARGV[1]); redis.call('decrby', KEYS[3], s) end
redis.call('zrem', KEYS[2], ARGV[1])
return 1`;

const HOLD_TTL_MS = 30_000;

export class BucketLedger implements EvictionLedger {
  private readonly sizes: string;
  private readonly recency: string;
  private readonly total: string;
  private readonly nodes: string;
  private readonly held = new Set<string>();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly redis: Redis,
    private readonly leases: Leases,
    private readonly prefix: string,
    private readonly nodeId: string,
    private readonly now: () => number = Date.now,
  ) {
    this.sizes = `${prefix}cap:sizes`;
    this.recency = `${prefix}cap:recency`;
    this.total = `${prefix}cap:bytes`;
    this.nodes = `${prefix}cap:nodes`;
    this.timer = setInterval(() => void this.heartbeat(), HOLD_TTL_MS / 3);
    this.timer.unref();
    void this.heartbeat();
  }

  private holdKey(node: string): string {
    return `${this.prefix}cap:held:${node}`;
  }

  /** Content became visible in the bucket (`known`: listed at start, keep a newer use time). */
  add(digest: string, size: number, at = this.now(), known = false): Promise<void> {
    return this.redis.eval(ADD, 3, this.sizes, this.recency, this.total, digest, String(size), String(at), known ? 'NX' : '').then(
      () => undefined,
      () => undefined,
    );
  }

  touch(digest: string): void {
    this.redis.zadd(this.recency, 'XX', this.now(), digest).catch(() => undefined);
  }

  forget(digest: string): Promise<void> {
    return this.redis.eval(FORGET, 3, this.sizes, this.recency, this.total, digest).then(
      () => undefined,
      () => undefined,
    );
  }

  /** This node started (true) or stopped (false) reading or filling the digest. */
  using(digest: string, inUse: boolean): void {
    if (inUse) this.held.add(digest);
    else this.held.delete(digest);
    const key = this.holdKey(this.nodeId);
    const op = inUse ? this.redis.multi().sadd(key, digest).pexpire(key, HOLD_TTL_MS) : this.redis.multi().srem(key, digest);
    op.exec().catch(() => undefined);
  }

  async bytes(): Promise<number | undefined> {
    try {
      return Number((await this.redis.get(this.total)) ?? 0);
    } catch {
      return undefined;
    }
  }

  async oldest(offset: number, count: number): Promise<Array<{ readonly digest: string; readonly size: number }>> {
    const digests = await this.redis.zrange(this.recency, offset, offset + count - 1);
    if (digests.length === 0) return [];
    const sizes = await this.redis.hmget(this.sizes, ...digests);
    return digests.map((digest, i) => ({ digest, size: Number(sizes[i] ?? 0) }));
  }

  async heldElsewhere(digests: readonly string[]): Promise<ReadonlySet<string>> {
    const alive = (await this.redis.zrangebyscore(this.nodes, this.now() - HOLD_TTL_MS, '+inf')).filter((n) => n !== this.nodeId);
    const out = new Set<string>();
    if (alive.length === 0 || digests.length === 0) return out;
    const replies = await Promise.all(alive.map((n) => this.redis.smismember(this.holdKey(n), ...digests)));
    for (const r of replies) r.forEach((v, i) => v === 1 && out.add(digests[i]!));
    return out;
  }

  async evictLease(): Promise<{ release(): Promise<void> } | undefined> {
    const got = await this.leases.tryAcquire('cap:evict', HOLD_TTL_MS);
    return got.kind === 'acquired' ? got.lease : undefined;
  }

  close(): void {
    clearInterval(this.timer);
  }

  private async heartbeat(): Promise<void> {
    const key = this.holdKey(this.nodeId);
    const m = this.redis.multi().zadd(this.nodes, this.now(), this.nodeId).zremrangebyscore(this.nodes, '-inf', this.now() - 10 * HOLD_TTL_MS);
    if (this.held.size > 0) m.sadd(key, ...this.held).pexpire(key, HOLD_TTL_MS);
    await m.exec().catch(() => undefined);
  }
}
