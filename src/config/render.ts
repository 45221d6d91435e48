/** Renders a Config back into the user-facing YAML shape, with secrets masked (for `berth config check`). */
import { stringify } from 'yaml';
import { formatListen } from './listen.js';
import { renderScale } from './scale.js';
import { MASK, maskCredentials } from './mask.js';
import type { Config, UpstreamConfig } from './types.js';
import { formatDuration, formatSize } from './units.js';

function renderUpstream(upstream: UpstreamConfig): Record<string, unknown> {
  return {
    url: upstream.url,
    aliases: [...upstream.aliases],
    tagTtl: formatDuration(upstream.tagTtlMs),
    maxStale: formatDuration(upstream.maxStaleMs),
    revalidate: upstream.revalidate,
    negativeTtl: formatDuration(upstream.negativeTtlMs),
    connections: upstream.connections,
    retries: upstream.retries,
    offline: upstream.offline,
    breaker: { failures: upstream.breaker.failures, coolDown: formatDuration(upstream.breaker.coolDownMs) },
    timeouts: {
      connect: formatDuration(upstream.timeouts.connectMs),
      headers: formatDuration(upstream.timeouts.headersMs),
      idle: formatDuration(upstream.timeouts.idleMs),
      fillTotal: formatDuration(upstream.timeouts.fillTotalMs),
    },
    ...(upstream.credentials !== undefined ? { credentials: maskCredentials(upstream.credentials) } : {}),
    ...(upstream.credentialPool !== undefined ? { credentialPool: upstream.credentialPool.map((c) => ({ name: c.name, ...maskCredentials(c) })) } : {}),
    quotaFloor: upstream.quotaFloor,
    ...(upstream.access !== undefined ? { access: { ...(upstream.access.allow ? { allow: [...upstream.access.allow] } : {}), anonymous: upstream.access.anonymous } } : {}),
  };
}

/** The effective configuration in the file's shape. Without credentials, loading the output yields the same Config. */
export function toUserShape(config: Config): Record<string, unknown> {
  const scale = renderScale(config);
  return {
    listen: formatListen(config.listen),
    storage: {
      path: config.storage.path,
      maxSize: config.storage.maxSize === 0 ? 0 : formatSize(config.storage.maxSize),
      fsync: config.storage.fsync,
      highWatermark: config.storage.highWatermark,
      lowWatermark: config.storage.lowWatermark,
      ...scale.storage,
    },
    ...scale.rest,
    pins: [...config.pins],
    pinRefresh: formatDuration(config.pinRefreshMs),
    prefetch: { images: [...config.prefetch.images], platforms: [...config.prefetch.platforms], interval: formatDuration(config.prefetch.intervalMs) },
    defaultUpstream: config.defaultUpstream,
    offline: config.offline,
    shutdownGrace: formatDuration(config.shutdownGraceMs),
    headersTimeout: formatDuration(config.headersTimeoutMs),
    log: { level: config.log.level },
    metrics: {
      enabled: config.metrics.enabled,
      ...(config.metrics.listen !== undefined ? { listen: formatListen(config.metrics.listen) } : {}),
      requireAuth: config.metrics.requireAuth,
    },
    status: { enabled: config.status.enabled },
    ...(config.tls !== undefined ? { tls: { cert: config.tls.certPath, key: config.tls.keyPath, watch: config.tls.watch } } : {}),
    ...(config.auth !== undefined
      ? {
          auth: {
            realm: config.auth.realm,
            ...(config.auth.htpasswdPath !== undefined ? { htpasswd: config.auth.htpasswdPath } : {}),
            tokens: config.auth.tokens.map((t) => ({ name: t.name, token: MASK })),
          },
        }
      : {}),
    upstreams: Object.fromEntries(config.upstreams.map((u) => [u.name, renderUpstream(u)])),
  };
}

export function renderEffective(config: Config): string {
  return stringify(toUserShape(config), { lineWidth: 0 });
}
