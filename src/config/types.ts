/** The validated, frozen configuration every module receives. Durations are ms, sizes bytes. */

export interface Credentials {
  readonly username?: string;
  readonly password?: string;
  /** A static bearer token or identity token sent as the token service's refresh token / Bearer. */
  readonly token?: string;
}

/** One member of an upstream's credential pool; `name` identifies it in metrics, logs and /status.json. */
export interface PooledCredentials extends Credentials {
  readonly name: string;
}

export interface UpstreamTimeouts {
  readonly connectMs: number;
  readonly headersMs: number;
  /** A body that sends nothing for this long is abandoned. */
  readonly idleMs: number;
  /** Whole-fill deadline for one blob. */
  readonly fillTotalMs: number;
}

/** Who may pull through an upstream when client auth is on. */
export interface UpstreamAccess {
  /** Client names (htpasswd users, token names) allowed; absent = every authenticated client. */
  readonly allow?: readonly string[];
  /** Serve this upstream to clients without credentials too. */
  readonly anonymous: boolean;
}

export interface TlsConfig {
  readonly certPath: string;
  readonly keyPath: string;
  /** Reload when either file changes (SIGHUP always reloads). */
  readonly watch: boolean;
}

export interface ClientToken {
  readonly name: string;
  readonly token: string;
}

/** Client authentication; absent = off (anyone who reaches berth may pull). */
export interface ClientAuthConfig {
  readonly realm: string;
  readonly htpasswdPath?: string;
  readonly tokens: readonly ClientToken[];
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
  /** Several accounts for one upstream: each manifest GET uses the one with the most quota left. */
  readonly credentialPool?: readonly PooledCredentials[];
  /** Below this many remaining pulls (best credential), cached tags within maxStale are not revalidated. 0 = off. */
  readonly quotaFloor: number;
  readonly timeouts: UpstreamTimeouts;
  readonly connections: number;
  readonly retries: number;
  readonly offline: boolean;
  /** Consecutive failed requests (failures, 0 = never) that stop dialling for coolDownMs. */
  readonly breaker: { readonly failures: number; readonly coolDownMs: number };
  /** Client access rule; absent = the default (see UpstreamAccess). */
  readonly access?: UpstreamAccess;
}

export interface Config {
  readonly listen: { readonly host: string; readonly port: number };
  readonly storage: {
    readonly path: string;
    /** 0 = unbounded. */
    readonly maxSize: number;
    readonly fsync: boolean;
    /** Fractions of maxSize: above high, evict least recently used content until below low. */
    readonly highWatermark: number;
    readonly lowWatermark: number;
    /** Where blobs live: the local disk (fs) or S3-compatible object storage (s3, with `s3`). */
    readonly backend: 'fs' | 's3';
    readonly s3?: S3Config;
    /** With backend s3: hot blobs kept on local disk, bounded by maxSize. */
    readonly localCache?: { readonly path: string; readonly maxSize: number };
  };
  /** Several nodes sharing one bucket: Redis for tags and cluster-wide single-flight fills. */
  readonly cluster?: ClusterConfig;
  /** Image references or globs whose content is never evicted. */
  readonly pins: readonly string[];
  /** How often pinned images are fetched again; 0 = never. */
  readonly pinRefreshMs: number;
  /** Images fetched at start and every intervalMs (0 = only at start), only these platforms when set. */
  readonly prefetch: { readonly images: readonly string[]; readonly platforms: readonly string[]; readonly intervalMs: number };
  /** Keyed by name; docker.io is the default route. */
  readonly upstreams: readonly UpstreamConfig[];
  readonly defaultUpstream: string;
  readonly log: { readonly level: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent' };
  readonly metrics: {
    readonly enabled: boolean;
    /** A separate plain-HTTP listener for /metrics; absent = served on the main listener. */
    readonly listen?: { readonly host: string; readonly port: number };
    /** With client auth on, /metrics needs credentials too. */
    readonly requireAuth: boolean;
  };
  /** The status page at / and /status.json (behind client auth when that is on). */
  readonly status: { readonly enabled: boolean };
  readonly tls?: TlsConfig;
  readonly auth?: ClientAuthConfig;
  readonly offline: boolean;
  readonly shutdownGraceMs: number;
  /** A client must send its whole request head within this time (slowloris bound). */
  readonly headersTimeoutMs: number;
}

/** S3-compatible object storage for blobs (storage.backend: s3). */
export interface S3Config {
  readonly bucket: string;
  /** Absent: AWS's regional endpoint. */
  readonly endpoint?: string;
  readonly region: string;
  readonly forcePathStyle: boolean;
  /** Key prefix, '' or ending in '/'. */
  readonly prefix: string;
  /** Both absent: the AWS SDK's environment chain (AWS_ACCESS_KEY_ID, profiles, roles). */
  readonly accessKeyId?: string;
  readonly secretAccessKey?: string;
  readonly partSize: number;
  readonly queueSize: number;
  /** Incomplete multipart uploads older than this are aborted at start-up. */
  readonly staleUploadsMs: number;
}

export interface ClusterConfig {
  /** redis:// or rediss:// URL (may carry a password). */
  readonly redisUrl: string;
  readonly keyPrefix: string;
  /** A fill lease expires this long after its holder stopped renewing it (a dead node). */
  readonly leaseTtlMs: number;
  /** How long a node waits for another node's fill of a blob before giving up. */
  readonly waitTimeoutMs: number;
}
