/**
 * Who fetches a digest, across the workers of one node: the first worker to claim a blob (or a
 * manifest) fetches it; the others wait for its release. A commit answers every waiter with
 * "stored"; a failure, or the owner's death, hands the claim to the next waiter, after the dead
 * owner's temp files are gone, so nothing it half-wrote can be seen or reused.
 */
import type { ClaimKind, ClaimReply } from './protocol.js';

interface Claim {
  owner: number;
  readonly waiters: Array<{ readonly worker: number; readonly resolve: (r: ClaimReply) => void }>;
}

export interface ClaimHubDeps {
  /** The stored size of a digest, if it is stored. */
  stat(digest: string): Promise<number | undefined>;
  /** Removes what a dead owner left in the temp directory for this digest. */
  discardTemp(digest: string): Promise<void>;
}

const keyOf = (kind: ClaimKind, digest: string): string => `${kind} ${digest}`;

export class ClaimHub {
  private readonly claims = new Map<string, Claim>();

  constructor(private readonly deps: ClaimHubDeps) {}

  claim(worker: number, kind: ClaimKind, digest: string): Promise<ClaimReply> {
    const key = keyOf(kind, digest);
    const held = this.claims.get(key);
    if (held) return new Promise((resolve) => held.waiters.push({ worker, resolve }));
    this.claims.set(key, { owner: worker, waiters: [] });
    // Stored by another worker between this one's miss and its claim: nothing to fetch.
    return this.deps.stat(digest).then((size) => {
      if (size === undefined) return { kind: 'owner' };
      void this.release(worker, kind, digest, true);
      return { kind: 'stored', size };
    });
  }

  async release(worker: number, kind: ClaimKind, digest: string, committed: boolean): Promise<void> {
    const key = keyOf(kind, digest);
    const c = this.claims.get(key);
    if (!c || c.owner !== worker) return;
    const size = committed ? await this.deps.stat(digest) : undefined;
    if (size !== undefined) {
      this.claims.delete(key);
      for (const w of c.waiters) w.resolve({ kind: 'stored', size });
      return;
    }
    this.handOver(key, c);
  }

  /** A worker exited: its waits end, its claims pass on once its temp files are removed. */
  async workerDied(worker: number): Promise<void> {
    const owned: Array<[string, Claim]> = [];
    for (const [key, c] of this.claims) {
      for (let i = c.waiters.length - 1; i >= 0; i--) if (c.waiters[i]!.worker === worker) c.waiters.splice(i, 1);
      if (c.owner === worker) owned.push([key, c]);
    }
    for (const [key, c] of owned) {
      await this.deps.discardTemp(key.slice(key.indexOf(' ') + 1)).catch(() => undefined);
      this.handOver(key, c);
    }
  }

  /** A fill or a manifest fetch is running for the digest (eviction leaves it alone). */
  has(digest: string): boolean {
    return this.claims.has(keyOf('blob', digest)) || this.claims.has(keyOf('manifest', digest));
  }

  private handOver(key: string, c: Claim): void {
    const next = c.waiters.shift();
    if (!next) {
      this.claims.delete(key);
      return;
    }
    c.owner = next.worker;
    next.resolve({ kind: 'owner' });
  }
}
