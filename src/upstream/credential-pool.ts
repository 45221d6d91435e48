/**
 * An upstream's credentials as a pool, judged by the quota each has left. Every response's
 * `ratelimit-*` headers are booked to the member whose credentials the request carried; a
 * counted request (a manifest GET, what Docker Hub calls a pull) goes out with the member that
 * has the most left. A member at zero, or answered with 429, rests until its window has passed
 * (`w=` of the header, else Retry-After, else a default). Anonymous use is a pool of one.
 */
import type { Credentials, UpstreamConfig } from '../config/types.js';
import { parseRateLimit, retryAfterMs } from './ratelimit.js';

export interface PoolMember {
  /** Configured name (`default` for the single `credentials` block, `anonymous` without any). */
  readonly name: string;
  readonly credentials: Credentials | undefined;
}

/** What the pool knows of one member, for /status.json. Times are Unix ms. */
export interface MemberQuota {
  readonly name: string;
  readonly remaining?: number;
  readonly limit?: number;
  readonly windowSeconds?: number;
  readonly seenAt?: number;
  readonly restingUntil?: number;
}

export type Lease =
  | { readonly kind: 'use'; readonly member: PoolMember; release(): void }
  | { readonly kind: 'exhausted'; readonly retryAfterMs: number };

export interface PoolOptions {
  /** Below this many remaining pulls (best member) the upstream is below its floor; 0 = off. */
  readonly floor: number;
  /** Refuse a counted request when every member rests (an explicit pool); else let the upstream decide. */
  readonly refuseWhenExhausted: boolean;
  /** Rest after a 429 or a zero when the upstream named no window. */
  readonly defaultRestMs: number;
  readonly now: () => number;
}

export interface PoolEvents {
  /** A member's latest `ratelimit-remaining`. */
  remaining?(member: string, remaining: number): void;
  /** A member ran out and rests until `until` (Unix ms). */
  resting?(member: string, until: number): void;
  /** The best member's quota crossed the floor (below = true) or came back. */
  floor?(below: boolean, best: number | undefined): void;
}

interface State {
  remaining?: number;
  limit?: number;
  windowMs?: number;
  seenAt?: number;
  restUntil: number;
  /** Counted requests sent and not yet answered. */
  pending: number;
}

export class CredentialPool {
  private readonly states: State[];
  private below = false;

  constructor(
    readonly members: readonly PoolMember[],
    private readonly opts: PoolOptions,
    private readonly events: PoolEvents = {},
  ) {
    if (members.length === 0) throw new Error('a credential pool needs at least one member');
    this.states = members.map(() => ({ restUntil: 0, pending: 0 }));
  }

  /** The member for a free request (HEAD, blobs, tag lists): the one with the most left, resting or not. */
  pick(): PoolMember {
    const lease = this.choose(false);
    return lease.kind === 'use' ? lease.member : this.members[0]!;
  }

  /** The member for a counted request (a manifest GET), holding a unit of its quota until released. */
  reserve(): Lease {
    return this.choose(true);
  }

  private choose(counted: boolean): Lease {
    const now = this.opts.now();
    let best = -1;
    let bestScore = -Infinity;
    for (let i = 0; i < this.members.length; i++) {
      const score = this.effective(i, now) - (counted ? this.states[i]!.pending : 0);
      if (this.states[i]!.restUntil > now) continue;
      if (score > bestScore) {
        best = i;
        bestScore = score;
      }
    }
    if (counted && (best === -1 || bestScore <= 0) && this.opts.refuseWhenExhausted) {
      return { kind: 'exhausted', retryAfterMs: this.nextRestEnd(now) };
    }
    // Free requests (HEAD, blobs) may use a resting member: only pulls are counted.
    if (best === -1) best = this.soonestAwake();
    const state = this.states[best]!;
    if (counted) state.pending++;
    let released = false;
    return {
      kind: 'use',
      member: this.members[best]!,
      release: () => {
        if (!counted || released) return;
        released = true;
        state.pending--;
      },
    };
  }

  /** Books a response's rate-limit headers (and a 429) to the member that sent the request. */
  observe(member: PoolMember, status: number, header: (name: string) => string | undefined): void {
    const i = this.members.indexOf(member);
    if (i === -1) return;
    const state = this.states[i]!;
    const now = this.opts.now();
    const rl = parseRateLimit(header);
    if (rl?.windowSec !== undefined) state.windowMs = rl.windowSec * 1000;
    if (rl?.limit !== undefined) state.limit = rl.limit;
    if (rl?.remaining !== undefined) {
      state.remaining = rl.remaining;
      state.seenAt = now;
      this.events.remaining?.(member.name, rl.remaining);
    }
    const out = status === 429 || rl?.remaining === 0;
    if (out) {
      const wait = retryAfterMs(header('retry-after'), now) ?? state.windowMs ?? this.opts.defaultRestMs;
      state.restUntil = now + Math.max(1_000, wait);
      if (rl?.remaining === undefined) this.events.remaining?.(member.name, 0);
      state.remaining = 0;
      state.seenAt = now;
      this.events.resting?.(member.name, state.restUntil);
    }
    this.belowFloor();
  }

  /** The most pulls any member has left; undefined when some member's quota is unknown (as good as full). */
  bestRemaining(): number | undefined {
    const now = this.opts.now();
    let best = 0;
    for (let i = 0; i < this.members.length; i++) best = Math.max(best, this.effective(i, now));
    return best === Infinity ? undefined : best;
  }

  /** Whether the best member has fewer pulls left than the floor; reports each crossing once. */
  belowFloor(): boolean {
    if (this.opts.floor <= 0) return false;
    const best = this.bestRemaining();
    const below = best !== undefined && best < this.opts.floor;
    if (below !== this.below) {
      this.below = below;
      this.events.floor?.(below, best);
    }
    return below;
  }

  snapshot(): MemberQuota[] {
    const now = this.opts.now();
    return this.members.map((m, i) => {
      this.effective(i, now);
      const s = this.states[i]!;
      return {
        name: m.name,
        ...(s.remaining !== undefined ? { remaining: s.remaining } : {}),
        ...(s.limit !== undefined ? { limit: s.limit } : {}),
        ...(s.windowMs !== undefined ? { windowSeconds: s.windowMs / 1000 } : {}),
        ...(s.seenAt !== undefined ? { seenAt: s.seenAt } : {}),
        ...(s.restUntil > now ? { restingUntil: s.restUntil } : {}),
      };
    });
  }

  /** Pulls left by the latest header: 0 while resting, Infinity when unknown or its window has passed. */
  private effective(i: number, now: number): number {
    const s = this.states[i]!;
    if (s.restUntil > now) return 0;
    if (s.restUntil > 0) {
      // The rest is over: what was known is out of date; the next answer tells again.
      s.restUntil = 0;
      s.remaining = undefined;
    }
    if (s.remaining === undefined || s.seenAt === undefined) return Infinity;
    if (s.windowMs !== undefined && now - s.seenAt >= s.windowMs) {
      s.remaining = undefined;
      return Infinity;
    }
    return s.remaining;
  }

  private soonestAwake(): number {
    let best = 0;
    for (let i = 1; i < this.states.length; i++) if (this.states[i]!.restUntil < this.states[best]!.restUntil) best = i;
    return best;
  }

  private nextRestEnd(now: number): number {
    const ends = this.states.map((s) => s.restUntil).filter((t) => t > now);
    return ends.length > 0 ? Math.max(1_000, Math.min(...ends) - now) : 1_000;
  }
}

/** The pool an upstream's config describes: its credentialPool, its single credentials, or anonymous. */
export function poolFromConfig(config: UpstreamConfig, now: () => number, events: PoolEvents = {}): CredentialPool {
  const members: PoolMember[] = config.credentialPool
    ? config.credentialPool.map(({ name, ...credentials }) => ({ name, credentials }))
    : [{ name: config.credentials ? 'default' : 'anonymous', credentials: config.credentials }];
  return new CredentialPool(members, { floor: config.quotaFloor, refuseWhenExhausted: config.credentialPool !== undefined, defaultRestMs: 60_000, now }, events);
}
