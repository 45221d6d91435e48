/** Renders a Config back into the user-facing YAML shape, with secrets masked (for `berth config check`). */
import { stringify } from 'yaml';
import { formatListen } from './listen.js';
import { maskCredentials } from './mask.js';
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
    timeouts: {
      connect: formatDuration(upstream.timeouts.connectMs),
      headers: formatDuration(upstream.timeouts.headersMs),
      idle: formatDuration(upstream.timeouts.idleMs),
      fillTotal: formatDuration(upstream.timeouts.fillTotalMs),
    },
    ...(upstream.credentials !== undefined ? { credentials: maskCredentials(upstream.credentials) } : {}),
  };
}

/** The effective configuration in the file's shape. Without credentials, loading the output yields the same Config. */
export function toUserShape(config: Config): Record<string, unknown> {
  return {
    listen: formatListen(config.listen),
    storage: {
      path: config.storage.path,
      maxSize: config.storage.maxSize === 0 ? 0 : formatSize(config.storage.maxSize),
      fsync: config.storage.fsync,
    },
    defaultUpstream: config.defaultUpstream,
    offline: config.offline,
    shutdownGrace: formatDuration(config.shutdownGraceMs),
    log: { level: config.log.level },
    metrics: { enabled: config.metrics.enabled },
    upstreams: Object.fromEntries(config.upstreams.map((u) => [u.name, renderUpstream(u)])),
  };
}

export function renderEffective(config: Config): string {
  return stringify(toUserShape(config), { lineWidth: 0 });
}
