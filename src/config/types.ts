/**
 * The validated, frozen configuration every module receives: the schema's output (schema.ts,
 * where each option is declared and documented) with paths resolved and secrets read.
 * Durations are ms, sizes bytes. The names below are views into it.
 */
import type { Frozen } from './freeze.js';
import type { FileConfig } from './schema.js';
import type { Resolved } from './secrets.js';

export type Config = Frozen<Resolved<FileConfig>>;
export type UpstreamConfig = Config['upstreams'][number];
export type Credentials = NonNullable<UpstreamConfig['credentials']>;
/** One member of an upstream's credential pool; `name` identifies it in metrics, logs and /status.json. */
export type PooledCredentials = NonNullable<UpstreamConfig['credentialPool']>[number];
export type UpstreamTimeouts = UpstreamConfig['timeouts'];
export type UpstreamAccess = NonNullable<UpstreamConfig['access']>;
export type TlsConfig = NonNullable<Config['tls']>;
/** Client authentication; absent = off (anyone who reaches berth may pull). */
export type ClientAuthConfig = NonNullable<Config['auth']>;
export type ClientToken = ClientAuthConfig['tokens'][number];
export type S3Config = NonNullable<Config['storage']['s3']>;
export type ClusterConfig = NonNullable<Config['cluster']>;
