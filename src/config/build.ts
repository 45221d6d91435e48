/**
 * Combines the parsed file (defaults already applied) with environment and flag overrides,
 * checks cross-references, resolves credentials and produces a deep-frozen Config.
 */
import { resolve } from 'node:path';
import { resolveCredentials } from './credentials.js';
import { resolvePool } from './pool.js';
import { formatPath } from './errors.js';
import { deepFreeze } from './freeze.js';
import { buildScale } from './scale.js';
import { buildSecurity } from './security.js';
import type { Overrides } from './overrides.js';
import type { FileConfig, UpstreamSpec } from './schema.js';
import type { Config, UpstreamConfig } from './types.js';

export type BuildResult = { ok: true; config: Config } | { ok: false; errors: string[] };

/** Checks that names and aliases route to exactly one upstream. */
function checkRouting(upstreams: readonly UpstreamSpec[], defaultUpstream: string): string[] {
  const errors: string[] = [];
  const owner = new Map<string, string>();
  for (const upstream of upstreams) owner.set(upstream.name, upstream.name);
  for (const upstream of upstreams) {
    upstream.aliases.forEach((alias, index) => {
      const at = formatPath(['upstreams', upstream.name, 'aliases', index]);
      const taken = owner.get(alias);
      if (taken === undefined) owner.set(alias, upstream.name);
      else if (taken === upstream.name) errors.push(`${at}: "${alias}" is listed twice or is the upstream's own name`);
      else errors.push(`${at}: "${alias}" already routes to upstream "${taken}"`);
    });
  }
  const names = upstreams.map((u) => u.name);
  if (!names.includes(defaultUpstream)) {
    const routed = owner.get(defaultUpstream);
    const hint =
      routed !== undefined
        ? `; it is an alias of "${routed}", use the upstream name`
        : `; configured upstreams: ${names.join(', ')}`;
    errors.push(`defaultUpstream: "${defaultUpstream}" is not a configured upstream${hint}`);
  }
  return errors;
}

function buildUpstream(
  spec: UpstreamSpec,
  env: NodeJS.ProcessEnv,
  cwd: string,
  errors: string[],
): UpstreamConfig {
  const { credentials: credentialSpec, credentialPool: poolSpec, ...rest } = spec;
  const base: UpstreamConfig = { ...rest, aliases: [...rest.aliases], timeouts: { ...rest.timeouts }, breaker: { ...rest.breaker } };
  const credentialPool = poolSpec !== undefined ? resolvePool(poolSpec, spec.name, env, cwd, errors) : undefined;
  const upstream: UpstreamConfig = credentialPool !== undefined ? { ...base, credentialPool } : base;
  if (credentialSpec === undefined) return upstream;
  const keyPath = formatPath(['upstreams', spec.name, 'credentials']);
  const result = resolveCredentials(credentialSpec, keyPath, env, cwd);
  if (!result.ok) {
    errors.push(...result.errors);
    return upstream;
  }
  return { ...upstream, credentials: result.credentials };
}

/** Later layers win: file < env < flags. */
export function buildConfig(
  file: FileConfig,
  layers: readonly Overrides[],
  env: NodeJS.ProcessEnv,
  cwd: string,
): BuildResult {
  const pick = <K extends keyof Overrides>(key: K): Overrides[K] =>
    layers.reduce<Overrides[K]>((current, layer) => layer[key] ?? current, undefined);

  const errors = checkRouting(file.upstreams, file.defaultUpstream);
  const upstreams = file.upstreams.map((spec) => buildUpstream(spec, env, cwd, errors));
  const security = buildSecurity(file, upstreams, env, cwd, errors);
  const scale = buildScale(file, env, cwd, errors);
  if (errors.length > 0) return { ok: false, errors };

  const listen = pick('listen') ?? file.listen;
  const config: Config = {
    listen: { host: listen.host, port: listen.port },
    storage: {
      path: resolve(cwd, pick('dataDir') ?? file.storage.path),
      maxSize: pick('maxSize') ?? file.storage.maxSize,
      fsync: file.storage.fsync,
      highWatermark: file.storage.highWatermark,
      lowWatermark: file.storage.lowWatermark,
      ...scale.storage,
    },
    ...(scale.cluster !== undefined ? { cluster: scale.cluster } : {}),
    pins: [...file.pins],
    pinRefreshMs: file.pinRefresh,
    prefetch: { images: [...file.prefetch.images], platforms: [...file.prefetch.platforms], intervalMs: file.prefetch.interval },
    upstreams,
    defaultUpstream: file.defaultUpstream,
    log: { level: pick('logLevel') ?? file.log.level },
    metrics: {
      enabled: file.metrics.enabled,
      requireAuth: file.metrics.requireAuth,
      ...(file.metrics.listen !== undefined ? { listen: { host: file.metrics.listen.host, port: file.metrics.listen.port } } : {}),
    },
    status: { enabled: file.status.enabled },
    ...security,
    offline: pick('offline') ?? file.offline,
    shutdownGraceMs: file.shutdownGrace,
    headersTimeoutMs: file.headersTimeout,
  };
  return { ok: true, config: deepFreeze(config) };
}
