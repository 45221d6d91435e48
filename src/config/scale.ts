/**
 * Builds and renders the scale-out settings: object storage (secret resolved from its
 * source), the local disk cache and the cluster block. Errors name keys, never secrets.
 */
import { resolve } from 'node:path';
import { readSecret } from './credentials.js';
import { MASK } from './mask.js';
import type { ClusterSpec, LocalCacheSpec, S3Spec } from './scale-schema.js';
import type { ClusterConfig, Config, S3Config } from './types.js';
import { formatDuration, formatSize } from './units.js';

export interface ScaleSpec {
  readonly storage: { readonly backend: 'fs' | 's3'; readonly maxSize: number; readonly s3?: S3Spec; readonly localCache?: LocalCacheSpec };
  readonly cluster?: ClusterSpec;
}

export interface Scale {
  readonly storage: Pick<Config['storage'], 'backend' | 's3' | 'localCache'>;
  readonly cluster?: ClusterConfig;
}

function buildS3(spec: S3Spec, env: NodeJS.ProcessEnv, cwd: string, errors: string[]): S3Config {
  const { secret, staleUploads, ...rest } = spec;
  const base: S3Config = { ...rest, staleUploadsMs: staleUploads };
  if (secret === undefined) return base;
  const read = readSecret(secret, env, cwd);
  if (!read.ok) {
    errors.push(`storage.s3.secretAccessKey${secret.from === 'env' ? 'Env' : secret.from === 'file' ? 'File' : ''}: ${read.error}`);
    return base;
  }
  return { ...base, secretAccessKey: read.value };
}

export function buildScale(file: ScaleSpec, env: NodeJS.ProcessEnv, cwd: string, errors: string[]): Scale {
  const { backend, s3, localCache } = file.storage;
  if (backend === 's3' && s3 === undefined) errors.push('storage.s3: required when storage.backend is s3');
  if (backend === 'fs' && s3 !== undefined) errors.push('storage.s3: set storage.backend: s3 to use object storage');
  if (backend === 'fs' && localCache !== undefined) errors.push('storage.localCache: only used with storage.backend: s3');
  if (backend === 's3' && file.storage.maxSize > 0) errors.push('storage.maxSize: eviction is per node and does not apply to object storage; use a bucket lifecycle rule (localCache.maxSize bounds the local cache)');
  if (file.cluster !== undefined && backend !== 's3') errors.push('cluster: needs shared object storage (storage.backend: s3)');
  const cluster = file.cluster;
  return {
    storage: {
      backend,
      ...(s3 !== undefined && backend === 's3' ? { s3: buildS3(s3, env, cwd, errors) } : {}),
      ...(localCache !== undefined ? { localCache: { path: resolve(cwd, localCache.path), maxSize: localCache.maxSize } } : {}),
    },
    ...(cluster !== undefined
      ? { cluster: { redisUrl: cluster.redis, keyPrefix: cluster.keyPrefix, leaseTtlMs: cluster.leaseTtl, waitTimeoutMs: cluster.waitTimeout } }
      : {}),
  };
}

/** A redis URL with its password (if any) masked. */
function maskUrl(url: string): string {
  return url.replace(/^(rediss?:\/\/)([^@/]*@)/, (_m, scheme: string, auth: string) => `${scheme}${auth.includes(':') ? `${auth.slice(0, auth.indexOf(':'))}:${MASK}@` : auth}`);
}

/** The scale-out keys in the file's shape, secrets masked. */
export function renderScale(config: Config): { storage: Record<string, unknown>; rest: Record<string, unknown> } {
  const { s3, localCache } = config.storage;
  const storage: Record<string, unknown> = { backend: config.storage.backend };
  if (s3 !== undefined) {
    const { secretAccessKey, staleUploadsMs, partSize, accessKeyId, endpoint, ...rest } = s3;
    storage['s3'] = {
      ...rest,
      ...(endpoint !== undefined ? { endpoint } : {}),
      partSize: formatSize(partSize),
      staleUploads: formatDuration(staleUploadsMs),
      ...(accessKeyId !== undefined ? { accessKeyId } : {}),
      ...(secretAccessKey !== undefined ? { secretAccessKey: MASK } : {}),
    };
  }
  if (localCache !== undefined) storage['localCache'] = { path: localCache.path, maxSize: formatSize(localCache.maxSize) };
  const c = config.cluster;
  const rest = c
    ? { cluster: { redis: maskUrl(c.redisUrl), keyPrefix: c.keyPrefix, leaseTtl: formatDuration(c.leaseTtlMs), waitTimeout: formatDuration(c.waitTimeoutMs) } }
    : {};
  return { storage, rest };
}
