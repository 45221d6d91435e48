/** What an upstream registry answers, as values: found, absent, unreachable and the rest. */
import type { Readable } from 'node:stream';

/** Why an upstream exchange failed, in a few words a person can act on (see cause.ts). */
export type CauseKind =
  | 'dns'
  | 'refused'
  | 'reset'
  | 'tls'
  | 'timeout'
  | 'network'
  | 'status'
  | 'circuit-open'
  | 'offline'
  | 'quota'
  | 'invalid'
  | 'aborted'
  | 'error';

export type TimeoutPhase = 'connect' | 'headers' | 'idle' | 'total';

export interface Cause {
  readonly kind: CauseKind;
  /** One line for people; never credentials, tokens or URL userinfo. */
  readonly message: string;
  readonly timeout?: TimeoutPhase;
  /** The upstream's HTTP status (kind `status`). */
  readonly status?: number;
  /** The registry's own error code from its JSON `errors` body (UNAVAILABLE, TOOMANYREQUESTS, …). */
  readonly code?: string;
  /** The upstream by configured name and host (no userinfo); absent when the source was not one. */
  readonly upstream?: string;
  readonly host?: string;
}

export type Outcome<T> =
  | { readonly kind: 'found'; readonly value: T }
  | { readonly kind: 'absent' }
  | { readonly kind: 'unreachable'; readonly cause: Cause }
  | { readonly kind: 'denied'; readonly status: number; readonly cause: Cause }
  | { readonly kind: 'ratelimited'; readonly retryAfter?: string; readonly cause: Cause };

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
  /** The configured URL's host[:port], without userinfo: how failures name the upstream. */
  readonly host: string;
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
