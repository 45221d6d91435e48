/** Renders a Config back into the user-facing YAML shape, with secrets masked (for `berth config check`). */
import { stringify } from 'yaml';
import { fileDurations } from './durations.js';
import { formatListen } from './listen.js';
import { maskSecrets, maskUrl } from './mask.js';
import type { ClientAuthConfig, ClusterConfig, Config } from './types.js';
import { formatSize } from './units.js';

function renderStorage(storage: Config['storage']): Record<string, unknown> {
  const { s3, localCache, ...local } = storage;
  return {
    ...local,
    maxSize: storage.maxSize === 0 ? 0 : formatSize(storage.maxSize),
    ...(s3 !== undefined ? { s3: { ...s3, partSize: formatSize(s3.partSize) } } : {}),
    ...(localCache !== undefined ? { localCache: { path: localCache.path, maxSize: formatSize(localCache.maxSize) } } : {}),
  };
}

function renderCluster({ redisUrl, peerListen, ...rest }: ClusterConfig): Record<string, unknown> {
  return { redis: maskUrl(redisUrl), ...rest, ...(peerListen !== undefined ? { peerListen: formatListen(peerListen) } : {}) };
}

function renderAuth({ htpasswdPath, ...rest }: ClientAuthConfig): Record<string, unknown> {
  return { ...rest, ...(htpasswdPath !== undefined ? { htpasswd: htpasswdPath } : {}) };
}

/** The keys whose file name or form differs from the Config's beyond durations. */
function renamed(config: Config): Record<string, unknown> {
  const { tls, auth, cluster, metrics } = config;
  return {
    listen: formatListen(config.listen),
    storage: renderStorage(config.storage),
    metrics: { ...metrics, ...(metrics.listen !== undefined ? { listen: formatListen(metrics.listen) } : {}) },
    ...(tls !== undefined ? { tls: { cert: tls.certPath, key: tls.keyPath, watch: tls.watch } } : {}),
    ...(auth !== undefined ? { auth: renderAuth(auth) } : {}),
    ...(cluster !== undefined ? { cluster: renderCluster(cluster) } : {}),
    upstreams: Object.fromEntries(config.upstreams.map(({ name, ...upstream }) => [name, upstream])),
  };
}

/** The effective configuration in the file's shape, as YAML. Without credentials, loading the output yields the same Config. */
export function renderEffective(config: Config): string {
  return stringify(fileDurations(maskSecrets({ ...config, ...renamed(config) })), { lineWidth: 0 });
}
