/**
 * The scale-out options: `storage.backend`/`storage.s3`/`storage.localCache` (object storage and
 * a local disk cache in front of it) and `cluster` (Redis for shared tags and cluster-wide
 * single-flight fills). buildScale checks how they combine and reads the S3 secret from its
 * source. Errors name keys, never secrets.
 */
import { resolve } from 'node:path';
import { z } from 'zod';
import { duration, MAX_TIMER_MS, msObject } from './durations.js';
import { httpUrl, listen, nonEmptyString, size, strictObject } from './fields.js';
import { envName, inlineSecret, pickSource, readSecret, sourceKey, type Resolved } from './secrets.js';

const MiB = 1024 * 1024;

/** S3-compatible object storage for blobs (storage.backend: s3). */
export const s3Schema = msObject({
  bucket: z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'expected an S3 bucket name (3-63 lowercase letters, digits, dots, dashes)'),
  /** Absent: AWS's regional endpoint. */
  endpoint: httpUrl.optional(),
  region: nonEmptyString.default('us-east-1'),
  forcePathStyle: z.boolean().default(true),
  /** Key prefix, '' or ending in '/'. */
  prefix: z.string().regex(/^([A-Za-z0-9._-]+\/)*$/, 'expected "" or path segments ending in "/", e.g. berth/').default(''),
  /** With no secret source: the AWS SDK's environment chain (AWS_ACCESS_KEY_ID, profiles, roles). */
  accessKeyId: nonEmptyString.optional(),
  secretAccessKey: inlineSecret.optional(),
  secretAccessKeyEnv: envName.optional(),
  secretAccessKeyFile: nonEmptyString.optional(),
  partSize: size.prefault('8MiB').refine((n) => n >= 5 * MiB && n <= 5 * 1024 * MiB, 'must be between 5MiB and 5GiB (S3 part limits)'),
  queueSize: z.number().int('must be a whole number').min(1).max(64).default(4),
  /** Incomplete multipart uploads older than this are aborted at start-up. */
  staleUploads: duration({ min: 60_000 }).prefault('1d'),
}).transform((raw, ctx) => {
  const secret = pickSource(raw.secretAccessKey, raw.secretAccessKeyEnv, raw.secretAccessKeyFile);
  if (secret === 'conflict') {
    ctx.addIssue({ code: 'custom', message: 'set only one of secretAccessKey, secretAccessKeyEnv, secretAccessKeyFile' });
    return z.NEVER;
  }
  if ((raw.accessKeyId === undefined) !== (secret === undefined)) {
    ctx.addIssue({ code: 'custom', message: 'set accessKeyId and a secretAccessKey source together, or neither (the AWS environment chain)' });
    return z.NEVER;
  }
  const { secretAccessKey: _a, secretAccessKeyEnv: _b, secretAccessKeyFile: _c, ...rest } = raw;
  return { ...rest, ...(secret !== undefined ? { secretAccessKey: secret } : {}) };
});

/** With backend s3: hot blobs kept on local disk, bounded by maxSize. */
export const localCacheSchema = strictObject({
  path: nonEmptyString,
  maxSize: size.refine((n) => n > 0, 'must be above 0'),
});

/** Several nodes sharing one bucket: Redis for tags and cluster-wide single-flight fills. */
export const clusterSchema = msObject({
  /** redis:// or rediss:// URL (may carry a password). */
  redis: z.string().regex(/^rediss?:\/\/\S+$/, 'expected a redis:// or rediss:// URL'),
  keyPrefix: z.string().regex(/^[A-Za-z0-9:._-]*$/, 'expected letters, digits and : . _ -').default('berth:'),
  /** A fill lease expires this long after its holder stopped renewing it (a dead node). */
  leaseTtl: duration({ min: 1_000, max: MAX_TIMER_MS }).prefault('10s'),
  /** How long a node waits for another node's fill of a blob before giving up. */
  waitTimeout: duration({ min: 1_000, max: MAX_TIMER_MS }).prefault('1h'),
  /** Where this node serves its running fills to the other nodes: an address they reach (not the client port). */
  peerListen: listen.optional(),
  /** What a peer must present to read a running fill; set with peerListen. */
  peerSecret: inlineSecret.optional(),
  peerSecretEnv: envName.optional(),
  peerSecretFile: nonEmptyString.optional(),
}).transform(({ redis, peerSecret: inline, peerSecretEnv, peerSecretFile, ...rest }, ctx) => {
  const peerSecret = pickSource(inline, peerSecretEnv, peerSecretFile);
  if (peerSecret === 'conflict') {
    ctx.addIssue({ code: 'custom', message: 'set only one of peerSecret, peerSecretEnv, peerSecretFile' });
    return z.NEVER;
  }
  if ((rest.peerListen === undefined) !== (peerSecret === undefined)) {
    ctx.addIssue({ code: 'custom', message: 'set peerListen and a peerSecret source together (peers must authenticate), or neither' });
    return z.NEVER;
  }
  // The address goes into the fill leases as is: a wildcard would name no node.
  if (rest.peerListen !== undefined && (rest.peerListen.host === '0.0.0.0' || rest.peerListen.host === '::')) {
    ctx.addIssue({ code: 'custom', path: ['peerListen'], message: 'name an address the other nodes reach this node on, not a wildcard' });
    return z.NEVER;
  }
  return { redisUrl: redis, ...rest, ...(peerSecret !== undefined ? { peerSecret } : {}) };
});

type ClusterSpec = z.output<typeof clusterSchema>;

/** The cluster block with its peer secret read from its source. */
export function buildCluster(spec: ClusterSpec, env: NodeJS.ProcessEnv, cwd: string, errors: string[]): Resolved<ClusterSpec> {
  const { peerSecret: secret, ...base } = spec;
  if (secret === undefined) return base;
  const read = readSecret(secret, env, cwd);
  if (!read.ok) {
    errors.push(`cluster.${sourceKey('peerSecret', secret)}: ${read.error}`);
    return base;
  }
  return { ...base, peerSecret: read.value };
}

type S3Spec = z.output<typeof s3Schema>;

interface ScaleSpec {
  readonly storage: {
    readonly backend: 'fs' | 's3';
    readonly maxSize: number;
    readonly s3?: S3Spec | undefined;
    readonly localCache?: z.output<typeof localCacheSchema> | undefined;
  };
  readonly cluster?: z.output<typeof clusterSchema> | undefined;
}

function buildS3(spec: S3Spec, env: NodeJS.ProcessEnv, cwd: string, errors: string[]): Resolved<S3Spec> {
  const { secretAccessKey: secret, ...base } = spec;
  if (secret === undefined) return base;
  const read = readSecret(secret, env, cwd);
  if (!read.ok) {
    errors.push(`storage.s3.${sourceKey('secretAccessKey', secret)}: ${read.error}`);
    return base;
  }
  return { ...base, secretAccessKey: read.value };
}

/** The storage keys that depend on the backend, checked together with `cluster`. */
export function buildScale(file: ScaleSpec, env: NodeJS.ProcessEnv, cwd: string, errors: string[]) {
  const { backend, s3, localCache } = file.storage;
  if (backend === 's3' && s3 === undefined) errors.push('storage.s3: required when storage.backend is s3');
  if (backend === 'fs' && s3 !== undefined) errors.push('storage.s3: set storage.backend: s3 to use object storage');
  if (backend === 'fs' && localCache !== undefined) errors.push('storage.localCache: only used with storage.backend: s3');
  if (file.cluster !== undefined && backend !== 's3') errors.push('cluster: needs shared object storage (storage.backend: s3)');
  return {
    backend,
    ...(s3 !== undefined && backend === 's3' ? { s3: buildS3(s3, env, cwd, errors) } : {}),
    ...(localCache !== undefined ? { localCache: { path: resolve(cwd, localCache.path), maxSize: localCache.maxSize } } : {}),
  };
}
