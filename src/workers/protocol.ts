/**
 * What a worker asks the primary and what the primary tells the workers. The primary owns the
 * state that must stay single across workers: claims (who fetches a blob or a manifest), the
 * tag index writer with its resolve claims, recency, reservations, readers' holds and eviction.
 */
import type { MetricsJson } from '../observability/metrics.js';
import type { TagEntry, TagKey } from '../store/tag-index.js';

export type ClaimKind = 'blob' | 'manifest';

/**
 * The primary's answer to a claim: fetch it yourself; it is stored now (with its size); or
 * another worker is filling it: follow its spool (progress updates follow this answer).
 */
export type ClaimReply =
  | { readonly kind: 'owner' }
  | { readonly kind: 'stored'; readonly size: number }
  | { readonly kind: 'follow'; readonly spool: string; readonly size: number };

/** A followed fill's progress; `settled` ends it: whether the owner committed the blob. */
export interface FillUpdate {
  readonly digest: string;
  readonly available?: number;
  readonly phase?: 'running' | 'verified' | 'failed';
  readonly settled?: boolean;
}

export type TagChange =
  | { readonly op: 'set'; readonly key: TagKey; readonly entry: TagEntry }
  | { readonly op: 'delete'; readonly key: TagKey }
  | { readonly op: 'deleteTag'; readonly upstream: string; readonly repository: string; readonly tag: string };

/** Served by the primary, per worker. */
export type PrimaryApi = {
  claim(a: { readonly kind: ClaimKind; readonly digest: string }): Promise<ClaimReply>;
  release(a: { readonly kind: ClaimKind; readonly digest: string; readonly committed: boolean }): void;
  /** The owner's spool is open: other workers may follow it from now on. */
  publish(a: { readonly digest: string; readonly spool: string; readonly size: number }): void;
  /** The owner's fill moved on. */
  progress(a: FillUpdate): void;
  /** The shared answer for a tag; may wait while another worker resolves it. null: none. */
  tagLookup(a: TagKey): Promise<TagEntry | null>;
  tagSnapshot(a: null): Array<readonly [TagKey, TagEntry]>;
  tagChange(a: TagChange): void;
  /** Room for a write about to begin (evicting first if needed); answers a reservation id. */
  reserve(a: { readonly bytes: number }): Promise<number>;
  unreserve(a: { readonly id: number }): void;
  hold(a: { readonly digest: string }): void;
  unhold(a: { readonly digest: string }): void;
  used(a: { readonly digest: string }): void;
  committed(a: { readonly digest: string; readonly size: number }): void;
  removed(a: { readonly digest: string; readonly size: number }): void;
  /** Every process's metrics, aggregated. */
  metrics(a: null): Promise<MetricsJson>;
};

/** Served by every worker. */
export type WorkerApi = {
  /** A fill this worker follows moved on. */
  progress(a: FillUpdate): void;
  tagChanged(a: TagChange): void;
  /** Content was evicted: drop in-memory copies. */
  forget(a: { readonly digest: string }): void;
  metricsJson(a: null): Promise<MetricsJson>;
};
