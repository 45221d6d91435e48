/**
 * Cluster-wide single flight for blob fills. A node that misses a blob takes the digest's
 * lease and fills it from upstream; the others stream the running fill from the owner's peer
 * listener (named in the lease) as it grows, or, without one, wait and read the blob from
 * object storage once the filler publishes "committed". A filler that dies stops renewing its
 * lease: it expires after the lease TTL and a waiting node takes over. A wait is bounded (then
 * the node fills on its own).
 */
import type { Digest } from '../oci/digest.js';
import type { FillClaim } from '../proxy/fill/fill.js';
import type { BlobInfo } from '../store/blob-store.js';
import type { Leases } from './lease.js';
import type { Notifier, Subscription } from './notifier.js';
import type { PeerBody } from './peer-client.js';

/** This node's view of its peers: its own address, and how a peer's running fill is read. */
export interface Peers {
  readonly self: string;
  open(peer: string, digest: string, from: number): Promise<PeerBody | undefined>;
}

export interface FillClaimOptions {
  readonly leaseTtlMs: number;
  readonly waitTimeoutMs: number;
  readonly prefix: string;
}

export interface FillClaimEvents {
  /** How this node's claim ended: filling, a blob another node stored, or no coordination. */
  claimed(result: 'owner' | 'stored' | 'peer' | 'unavailable' | 'timeout'): void;
}

export class FillClaims {
  constructor(
    private readonly leases: Leases,
    private readonly notifier: Notifier,
    private readonly stat: (digest: Digest) => Promise<BlobInfo | undefined>,
    private readonly opts: FillClaimOptions,
    private readonly events: FillClaimEvents,
    private readonly now: () => number = Date.now,
    private readonly peers?: Peers,
  ) {}

  /** Never rejects: without Redis the node fills on its own (per-node single flight still holds). */
  readonly claim = async (digest: Digest, from = 0): Promise<FillClaim> => {
    const channel = `${this.opts.prefix}fill:${digest.value}`;
    const deadline = this.now() + this.opts.waitTimeoutMs;
    const poll = Math.max(100, Math.min(1_000, Math.floor(this.opts.leaseTtlMs / 4)));
    const sub = await this.notifier.listen(channel);
    // A peer claim keeps the subscription: it hears whether the owner stored the blob.
    let handedOver = false;
    try {
      for (;;) {
        const got = await this.leases.tryAcquire(`fill:${digest.value}`, this.opts.leaseTtlMs);
        if (got.kind === 'unavailable') return this.alone('unavailable');
        if (got.kind === 'acquired') {
          // Committed by another node between our miss and the lease: nothing to fetch.
          const stored = await this.stat(digest);
          if (stored) {
            await got.lease.release();
            return this.stored(stored.size);
          }
          this.events.claimed('owner');
          return {
            kind: 'owner',
            release: async (committed) => {
              await got.lease.release();
              await this.notifier.publish(channel, committed ? 'committed' : 'failed');
            },
          };
        }
        const streamed = await this.stream(digest, from, sub);
        if (streamed) {
          handedOver = true;
          return streamed;
        }
        if (this.now() >= deadline) return this.alone('timeout');
        await sub.next(poll);
        const stored = await this.stat(digest);
        if (stored) return this.stored(stored.size);
      }
    } finally {
      if (!handedOver) sub.close();
    }
  };

  /** The running fill of the lease's holder, from its peer listener. */
  private async stream(digest: Digest, from: number, sub: Subscription): Promise<FillClaim | undefined> {
    if (!this.peers) return undefined;
    const peer = await this.leases.holderPeer(`fill:${digest.value}`);
    if (peer === undefined || peer === this.peers.self) return undefined;
    const got = await this.peers.open(peer, digest.value, from);
    if (!got) return undefined;
    this.events.claimed('peer');
    // The owner publishes its outcome right after its commit; a dead one says nothing.
    const settled = async (): Promise<boolean> => {
      try {
        return (await sub.next(this.opts.leaseTtlMs * 2)) === 'committed';
      } finally {
        sub.close();
      }
    };
    return { kind: 'peer', size: got.size, from, body: got.body, settled, close: () => sub.close() };
  }

  private stored(size: number): FillClaim {
    this.events.claimed('stored');
    return { kind: 'stored', size };
  }

  private alone(why: 'unavailable' | 'timeout'): FillClaim {
    this.events.claimed(why);
    return { kind: 'owner', release: async () => undefined };
  }
}
