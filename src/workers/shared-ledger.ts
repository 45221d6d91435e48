/**
 * A worker's side of the size cap: the primary keeps recency, reservations and eviction, so
 * this only reports — what was committed, removed and served, which digests its readers hold,
 * and asks for room before a write begins.
 */
import type { BlobStore } from '../store/blob-store.js';
import { CappedStore } from '../store/cap/capped-store.js';
import { InUse, type Release } from '../store/cap/in-use.js';
import type { PrimaryApi } from './protocol.js';
import type { Peer } from './rpc.js';

const NOOP: Release = () => undefined;

/** Holds readers' leases locally and at the primary, whose evictor must see every worker's. */
class ReportedInUse extends InUse {
  constructor(private readonly primary: Peer<PrimaryApi>) {
    super();
  }

  override hold(digest: string): Release {
    const release = super.hold(digest);
    this.primary.notify('hold', { digest });
    let released = false;
    return () => {
      if (released) return;
      released = true;
      release();
      this.primary.notify('unhold', { digest });
    };
  }
}

export class SharedLedger {
  readonly inUse: InUse;

  constructor(private readonly primary: Peer<PrimaryApi>) {
    this.inUse = new ReportedInUse(primary);
  }

  committed(digest: string, size: number): void {
    this.primary.notify('committed', { digest, size });
  }

  removed(digest: string, size: number): void {
    this.primary.notify('removed', { digest, size });
  }

  used(digest: string): void {
    this.primary.notify('used', { digest });
  }

  wrap(store: BlobStore): CappedStore {
    const primary = this.primary;
    const reserver = {
      async reserve(bytes: number): Promise<Release> {
        if (bytes <= 0) return NOOP;
        const id = await primary.call('reserve', { bytes });
        let released = false;
        return () => {
          if (released) return;
          released = true;
          primary.notify('unreserve', { id });
        };
      },
    };
    return new CappedStore(store, reserver, this.inUse, (d) => this.used(d));
  }

  /** Eviction runs in the primary: nothing to wait for here. */
  async settled(): Promise<void> {}

  async close(): Promise<void> {}
}
