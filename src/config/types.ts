/** The validated, frozen configuration every module receives. Durations are ms, sizes bytes. */

export interface Credentials {
  readonly username?: string;
  readonly password?: string;
  /** A static bearer token or identity token sent as the token service's refresh token / Bearer. */
  readonly token?: string;
}

export interface UpstreamTimeouts {
  readonly connectMs: number;
  readonly headersMs: number;
  /** A body that sends nothing for this long is abandoned. */
  readonly idleMs: number;
  /** Whole-fill deadline for one blob. */
  readonly fillTotalMs: number;
}

export interface UpstreamConfig {
  /** Registry host clients use: docker.io, ghcr.io, registry.example.com:5000. */
  readonly name: string;
  readonly url: string;
  readonly aliases: readonly string[];
  readonly tagTtlMs: number;
  /** How long past the TTL a cached tag may still be served when the upstream fails. */
  readonly maxStaleMs: number;
  /** background: stale-while-revalidate; first: revalidate before answering. */
  readonly revalidate: 'background' | 'first';
  readonly negativeTtlMs: number;
  readonly credentials?: Credentials;
  readonly timeouts: UpstreamTimeouts;
  readonly connections: number;
  readonly retries: number;
  readonly offline: boolean;
}

export interface Config {
  readonly listen: { readonly host: string; readonly port: number };
  readonly storage: {
    readonly path: string;
    /** 0 = unbounded. */
    readonly maxSize: number;
    readonly fsync: boolean;
  };
  /** Keyed by name; docker.io is the default route. */
  readonly upstreams: readonly UpstreamConfig[];
  readonly defaultUpstream: string;
  readonly log: { readonly level: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent' };
  readonly metrics: { readonly enabled: boolean };
  readonly offline: boolean;
  readonly shutdownGraceMs: number;
}
