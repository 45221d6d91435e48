/** What an upstream registry answers, as values: found, absent, unreachable and the rest. */
import type { Readable } from 'node:stream';

export type Outcome<T> =
  | { readonly kind: 'found'; readonly value: T }
  | { readonly kind: 'absent' }
  | { readonly kind: 'unreachable'; readonly cause: string; readonly status?: number }
  | { readonly kind: 'denied'; readonly status: number }
  | { readonly kind: 'ratelimited'; readonly retryAfter?: string };

export type Failure = Exclude<Outcome<never>, { kind: 'found' }>;

export interface ManifestHead {
  readonly digest?: string;
  readonly mediaType: string;
  readonly size: number;
}

export interface ManifestBody {
  readonly bytes: Buffer;
  readonly mediaType: string;
  readonly digest?: string;
}

export interface BlobHead {
  readonly size: number;
}

export interface BlobBody {
  /** Size of the whole blob. */
  readonly size: number;
  /** Offset of the first byte of `body` within the blob. */
  readonly start: number;
  readonly body: Readable;
}

export interface PassThroughBody {
  readonly status: number;
  readonly bytes: Buffer;
  readonly headers: Readonly<Record<string, string>>;
}

export interface Upstream {
  readonly name: string;
  headManifest(repository: string, reference: string, accept: string): Promise<Outcome<ManifestHead>>;
  getManifest(repository: string, reference: string, accept: string): Promise<Outcome<ManifestBody>>;
  statBlob(repository: string, digest: string): Promise<Outcome<BlobHead>>;
  /** `from` > 0 asks for the rest of the blob from that offset (resuming a broken fill). */
  getBlob(repository: string, digest: string, from: number, signal?: AbortSignal): Promise<Outcome<BlobBody>>;
  /** GET of a small JSON document (tags list, referrers) relayed as-is. */
  getJson(repository: string, pathAndQuery: string, accept?: string): Promise<Outcome<PassThroughBody>>;
  /** True while the best credential has fewer pulls left than the upstream's quotaFloor. */
  belowQuotaFloor?(): boolean;
  close(): Promise<void>;
}
