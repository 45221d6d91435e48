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

export interface BlobRequest {
  /** First byte wanted; > 0 resumes a broken fill. */
  readonly from: number;
  /** One past the last byte wanted; the rest of the blob when absent. */
  readonly to?: number;
  readonly signal?: AbortSignal;
  /** A URL an earlier answer redirected to (a CDN): asked directly, without credentials. */
  readonly location?: string;
}

export interface BlobBody {
  /** Size of the whole blob (-1 when the upstream sent no length). */
  readonly size: number;
  /** Offset of the first byte of `body` within the blob. */
  readonly start: number;
  /** One past the last byte of `body`: `size` unless the upstream answered a part (206). */
  readonly end: number;
  readonly body: Readable;
  /** The other origin the registry redirected to, for the next parts of the same blob. */
  readonly location?: string;
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
  /** The blob, or the part of it `req` asks for (a Range request; the upstream may ignore it). */
  getBlob(repository: string, digest: string, req: BlobRequest): Promise<Outcome<BlobBody>>;
  /** GET of a small JSON document (tags list, referrers) relayed as-is. */
  getJson(repository: string, pathAndQuery: string, accept?: string): Promise<Outcome<PassThroughBody>>;
  /** True while the best credential has fewer pulls left than the upstream's quotaFloor. */
  belowQuotaFloor?(): boolean;
  close(): Promise<void>;
}
