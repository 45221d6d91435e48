/**
 * Leases in Redis: `SET key token NX PX ttl`, renewed while the holder works, released only
 * by the holder (compare-and-delete). A holder that dies stops renewing; the key expires after
 * ttl and another node may take over.
 */
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';

const RENEW = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end`;
const RELEASE = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;

export interface Lease {
  readonly key: string;
  /** False once a renewal found the key gone or owned by someone else. */
  readonly held: boolean;
  release(): Promise<void>;
}

/** The result of an attempt: ours, someone else's, or Redis could not be asked. */
export type Acquired = { readonly kind: 'acquired'; readonly lease: Lease } | { readonly kind: 'held' } | { readonly kind: 'unavailable' };

export class Leases {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    /** Written into the lease value, for operators reading Redis. */
    private readonly nodeId: string,
    /** Where this node serves its work in progress to peers; written into the lease value. */
    private readonly peer?: string,
  ) {}

  async tryAcquire(name: string, ttlMs: number): Promise<Acquired> {
    const key = `${this.prefix}lease:${name}`;
    const token = `${this.nodeId}${this.peer !== undefined ? ` peer=${this.peer}` : ''} ${randomBytes(8).toString('hex')}`;
    let ok: string | null;
    try {
      ok = await this.redis.set(key, token, 'PX', ttlMs, 'NX');
    } catch {
      return { kind: 'unavailable' };
    }
    if (ok !== 'OK') return { kind: 'held' };
    return { kind: 'acquired', lease: this.hold(key, token, ttlMs) };
  }

  /** The peer address of the lease's holder; undefined when free, unnamed, or Redis is down. */
  async holderPeer(name: string): Promise<string | undefined> {
    const value = await this.redis.get(`${this.prefix}lease:${name}`).catch(() => null);
    return value === null ? undefined : / peer=(\S+) /.exec(value)?.[1];
  }

  private hold(key: string, token: string, ttlMs: number): Lease {
    const redis = this.redis;
    let held = true;
    const timer = setInterval(() => {
      redis.eval(RENEW, 1, key, token, String(ttlMs)).then(
        (r) => {
          if (r !== 1) held = false;
        },
        () => undefined,
      );
    }, Math.max(100, Math.floor(ttlMs / 3)));
    timer.unref();
    return {
      key,
      get held() {
        return held;
      },
      release: async () => {
        clearInterval(timer);
        held = false;
        await redis.eval(RELEASE, 1, key, token).catch(() => undefined);
      },
    };
  }
}
