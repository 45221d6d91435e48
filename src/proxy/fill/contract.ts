/**
 * What a fill promises and needs, apart from how it runs: its options and fetch policy, the
 * claim that decides who fills a digest (this process, another worker, another node), the
 * hooks it reports through, and what it ends as.
 */
import type { Readable } from 'node:stream';
import type { Digest } from '../../oci/digest.js';
import type { PartialReader } from '../../store/blob-store.js';
import type { Failure } from '../../upstream/types.js';
import type { Permits } from './permits.js';
import type { ProgressView } from './progress.js';

/** Why a fill produced nothing to read: an upstream answer, or a store that cannot take the bytes. */
export type FillRefusal = Failure | { readonly kind: 'store-unavailable'; readonly cause: string };

export type FillResult = 'committed' | 'failed' | 'uncached';

export interface FillOptions {
  readonly maxResumes: number;
  readonly totalTimeoutMs: number;
  /** Whether the store has room for this many more bytes; a blob that cannot fit is not begun. */
  readonly room?: (bytes: number) => Promise<boolean>;
  /**
   * Cluster-wide single flight: waits while another node fills this digest (see FillClaim).
   * `from`: the bytes this node already has, where a peer's stream is to start.
   */
  readonly claim?: (digest: Digest, from?: number) => Promise<FillClaim>;
  /** Aborts the fill (shutdown). */
  readonly signal?: AbortSignal;
}

/** How one upstream's blobs are fetched: its connection cap, and when to split a blob into ranges. */
export interface FetchPolicy {
  readonly permits: Permits;
  /** Blobs at least this big are fetched as parallel ranges... */
  readonly minSize: number;
  /** ...over this many connections (1: never split). */
  readonly connections: number;
}

/**
 * The right to fill a digest: `owner` fills and then releases (telling waiting nodes whether it
 * committed), and may `publish` its spool so others follow it; `stored` means another node
 * committed it meanwhile; `follow` means another worker of this node is filling it: its spool is
 * read as it grows, with its progress, and `settled` tells whether it was committed.
 */
export type FillClaim =
  | { readonly kind: 'owner'; release(committed: boolean): Promise<void>; publish?(spool: string, progress: ProgressView): void }
  | { readonly kind: 'stored'; readonly size: number }
  | {
      readonly kind: 'follow';
      readonly size: number;
      readonly progress: ProgressView;
      readonly settled: Promise<boolean>;
      open(): Promise<PartialReader | undefined>;
    }
  | PeerClaim;

/**
 * Another node is filling the digest and streams it from `from` on: this node writes the bytes
 * into its own writer and hashes them itself, so its readers follow its own spool.
 */
export interface PeerClaim {
  readonly kind: 'peer';
  readonly size: number;
  readonly from: number;
  readonly body: Readable;
  /** Once every byte is here: whether the owner stored the blob (false: it failed, or said nothing in time). */
  settled(): Promise<boolean>;
  /** The stream broke: this claim is given up. */
  close(): void;
}

export interface FillHooks {
  onBytes(n: number): void;
  /** How many upstream connections the fill used, once its bytes are all in. */
  onConnections(n: number): void;
  onResume(): void;
  /** The store refused or failed a write; the blob is served uncached or the fill fails. */
  onStoreError(cause: string): void;
}

/** A running fill as the status page shows it. */
export interface FillStatus {
  readonly digest: string;
  readonly written: number;
  readonly size: number;
}
