/**
 * A worker's connection to the primary: the shared tag index, the size-cap ledger, the claims
 * and the aggregated metrics, all over the cluster IPC channel.
 */
import type { Registry } from 'prom-client';
import type { MetricsJson } from '../observability/metrics.js';
import type { PrimaryApi, WorkerApi } from './protocol.js';
import { Peer, type Channel } from './rpc.js';
import { SharedLedger } from './shared-ledger.js';
import { SharedTagIndex } from './shared-tag-index.js';
import { WorkerClaims } from './worker-claims.js';

/** What the worker's services give the link once they exist. */
export interface WorkerHooks {
  readonly registry: Registry;
  /** Content the primary evicted: drop in-memory copies. */
  forget(digest: string): void;
}

export class WorkerLink {
  readonly tags: SharedTagIndex;
  readonly ledger: SharedLedger;
  readonly claims: WorkerClaims;
  private readonly peer: Peer<PrimaryApi>;
  private hooks: WorkerHooks | undefined;

  constructor(
    /** 0..N-1, kept by a replacement: worker 0 runs the schedules (prefetch, pin refresh). */
    readonly index: number,
    channel: Channel,
  ) {
    const api: WorkerApi = {
      progress: (u) => this.claims.update(u),
      tagChanged: (c) => this.tags.apply(c),
      forget: ({ digest }) => this.hooks?.forget(digest),
      metricsJson: async () => (this.hooks ? ((await this.hooks.registry.getMetricsAsJSON()) as MetricsJson) : []),
    };
    this.peer = new Peer<PrimaryApi>(channel, api);
    this.claims = new WorkerClaims(this.peer);
    this.tags = new SharedTagIndex(this.peer);
    this.ledger = new SharedLedger(this.peer);
  }

  attach(hooks: WorkerHooks): void {
    this.hooks = hooks;
  }

  /** Every process's metrics, summed by the primary. */
  metrics(): Promise<MetricsJson> {
    return this.peer.call('metrics', null);
  }

  close(): void {
    this.peer.close();
  }
}
