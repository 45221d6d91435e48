/**
 * Who fetches a digest, across the workers of one node: the first worker to claim a blob (or a
 * manifest) fetches it. Once the owner's spool is open (`publish`), every other claimant follows
 * it as it grows, with the owner's progress relayed to them; before that they wait. A commit
 * settles the followers and answers waiters "stored"; a failure, or the owner's death, fails the
 * followers and hands the claim to the next waiter, after the dead owner's temp files are gone,
 * so nothing it half-wrote can be seen or reused.
 */
import type { ClaimKind, ClaimReply, FillUpdate } from './protocol.js';

interface Published {
  readonly spool: string;
  readonly size: number;
  available: number;
  phase: 'running' | 'verified' | 'failed';
}

interface Claim {
  owner: number;
  readonly waiters: Array<{ readonly worker: number; readonly resolve: (r: ClaimReply) => void }>;
  published?: Published;
  readonly followers: Set<number>;
}

export interface ClaimHubDeps {
  /** The stored size of a digest, if it is stored. */
  stat(digest: string): Promise<number | undefined>;
  /** Removes what a dead owner left in the temp directory for this digest. */
  discardTemp(digest: string): Promise<void>;
  /** Sends a followed fill's progress to a worker. */
  update(worker: number, update: FillUpdate): void;
}

const keyOf = (kind: ClaimKind, digest: string): string => `${kind} ${digest}`;

export class ClaimHub {
  private readonly claims = new Map<string, Claim>();

  constructor(private readonly deps: ClaimHubDeps) {}

  claim(worker: number, kind: ClaimKind, digest: string): Promise<ClaimReply> {
    const key = keyOf(kind, digest);
    const held = this.claims.get(key);
    if (held?.published) return Promise.resolve(this.follow(held, worker, digest));
    if (held) return new Promise((resolve) => held.waiters.push({ worker, resolve }));
    this.claims.set(key, { owner: worker, waiters: [], followers: new Set() });
    // Stored by another worker between this one's miss and its claim: nothing to fetch.
    return this.deps.stat(digest).then((size) => {
      if (size === undefined) return { kind: 'owner' };
      void this.release(worker, kind, digest, true);
      return { kind: 'stored', size };
    });
  }

  publish(worker: number, digest: string, spool: string, size: number): void {
    const c = this.claims.get(keyOf('blob', digest));
    if (!c || c.owner !== worker || c.published) return;
    c.published = { spool, size, available: 0, phase: 'running' };
    for (const w of c.waiters.splice(0)) w.resolve(this.follow(c, w.worker, digest));
  }

  progress(worker: number, u: FillUpdate): void {
    const c = this.claims.get(keyOf('blob', u.digest));
    const p = c?.published;
    if (!c || !p || c.owner !== worker) return;
    if (u.available !== undefined) p.available = Math.max(p.available, u.available);
    if (u.phase !== undefined) p.phase = u.phase;
    for (const f of c.followers) this.deps.update(f, { digest: u.digest, available: p.available, phase: p.phase });
  }

  async release(worker: number, kind: ClaimKind, digest: string, committed: boolean): Promise<void> {
    const key = keyOf(kind, digest);
    const c = this.claims.get(key);
    if (!c || c.owner !== worker) return;
    const size = committed ? await this.deps.stat(digest) : undefined;
    if (size !== undefined) {
      this.claims.delete(key);
      for (const f of c.followers) this.deps.update(f, { digest, settled: true });
      for (const w of c.waiters) w.resolve({ kind: 'stored', size });
      return;
    }
    this.handOver(key, c, digest);
  }

  /** A worker exited: its waits end, its claims pass on once its temp files are removed. */
  async workerDied(worker: number): Promise<void> {
    const owned: Array<[string, Claim]> = [];
    for (const [key, c] of this.claims) {
      for (let i = c.waiters.length - 1; i >= 0; i--) if (c.waiters[i]!.worker === worker) c.waiters.splice(i, 1);
      c.followers.delete(worker);
      if (c.owner === worker) owned.push([key, c]);
    }
    for (const [key, c] of owned) {
      const digest = key.slice(key.indexOf(' ') + 1);
      await this.deps.discardTemp(digest).catch(() => undefined);
      this.handOver(key, c, digest);
    }
  }

  /** A fill or a manifest fetch is running for the digest (eviction leaves it alone). */
  has(digest: string): boolean {
    return this.claims.has(keyOf('blob', digest)) || this.claims.has(keyOf('manifest', digest));
  }

  private follow(c: Claim, worker: number, digest: string): ClaimReply {
    const p = c.published!;
    c.followers.add(worker);
    // Sent before the answer: the worker registered the digest before it asked.
    this.deps.update(worker, { digest, available: p.available, phase: p.phase });
    return { kind: 'follow', spool: p.spool, size: p.size };
  }

  /** The owner failed: its followers break (they cannot go past its bytes); the next waiter fills. */
  private handOver(key: string, c: Claim, digest: string): void {
    for (const f of c.followers) this.deps.update(f, { digest, phase: 'failed', settled: false });
    c.followers.clear();
    c.published = undefined;
    const next = c.waiters.shift();
    if (!next) {
      this.claims.delete(key);
      return;
    }
    c.owner = next.worker;
    next.resolve({ kind: 'owner' });
  }
}
