/**
 * A worker's connection to the primary: the shared tag index, the size-cap ledger, the claims
 * and the aggregated metrics, all over the cluster IPC channel.
 */
import type { Registry } from 'prom-client';
import type { Digest } from '../oci/digest.js';
import type { FillClaim } from '../proxy/fill/fill.js';
import type { MetricsJson } from '../observability/metrics.js';
import type { ClaimKind, PrimaryApi, WorkerApi } from './protocol.js';
import { Peer, type Channel } from './rpc.js';
import { SharedLedger } from './shared-ledger.js';
import { SharedTagIndex } from './shared-tag-index.js';

/** What the worker's services give the link once they exist. */
export interface WorkerHooks {
  readonly registry: Registry;
  /** Content the primary evicted: drop in-memory copies. */
  forget(digest: string): void;
}

export class WorkerLink {
  readonly tags: SharedTagIndex;
  readonly ledger: SharedLedger;
  private readonly peer: Peer<PrimaryApi>;
  private hooks: WorkerHooks | undefined;

  constructor(
    /** 0..N-1, kept by a replacement: worker 0 runs the schedules (prefetch, pin refresh). */
    readonly index: number,
    channel: Channel,
  ) {
    const api: WorkerApi = {
      tagChanged: (c) => this.tags.apply(c),
      forget: ({ digest }) => this.hooks?.forget(digest),
      metricsJson: async () => (this.hooks ? ((await this.hooks.registry.getMetricsAsJSON()) as MetricsJson) : []),
    };
    this.peer = new Peer<PrimaryApi>(channel, api);
    this.tags = new SharedTagIndex(this.peer);
    this.ledger = new SharedLedger(this.peer);
  }

  attach(hooks: WorkerHooks): void {
    this.hooks = hooks;
  }

  /** The FillClaim seam of fills (and manifests): one fetch per digest across the workers. */
  claimer(kind: ClaimKind): (digest: Digest) => Promise<FillClaim> {
    return async (digest) => {
      const reply = await this.peer.call('claim', { kind, digest: digest.value }).catch(() => undefined);
      // No primary (it is exiting, and so are we): fetch without coordination.
      if (!reply || reply.kind === 'owner') {
        return { kind: 'owner', release: async (committed) => this.peer.notify('release', { kind, digest: digest.value, committed }) };
      }
      return reply;
    };
  }

  /** Every process's metrics, summed by the primary. */
  metrics(): Promise<MetricsJson> {
    return this.peer.call('metrics', null);
  }

  close(): void {
    this.peer.close();
  }
}
